//! Client applications.

use super::{
    APP_USABLE, JOIN_APP_OWNER, Store, StoreError, join, parse_public_id, parsed, public_id_sql,
};
use crate::model::{AppFields, Application, ClientType, GrantType};
use crate::oauth::registration::SecretChange;
use crate::oauth::scope::Scopes;
use crate::secret::Digest32;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, ToSql, params, params_from_iter};

/// What registering an application stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    /// Generated public identifier.
    pub client_id: String,
    /// SHA-256 of the generated secret; `None` for public clients.
    pub secret_digest: Option<Digest32>,
    /// Owning user.
    pub owner_id: Option<i64>,
    /// What the registration form set.
    pub fields: AppFields,
}

/// `SELECT` of an application (`app`) with what [`app_from_row`] reads; add a `WHERE`.
fn select_apps() -> String {
    format!(
        "SELECT app.id, app.client_id, app.client_secret_hash, app.name, app.client_type, app.grant_types,
                app.redirect_uris, app.allowed_scopes, app.skip_authorization, app.enabled, app.owner_id,
                app.disabled_by_admin, {APP_USABLE}, app.post_logout_redirect_uris, {},
                app.dynamically_registered,
                (SELECT group_concat(origin, ' ') FROM app_origins WHERE application_id = app.id),
                app.allowed_resources
         FROM applications app {JOIN_APP_OWNER}",
        public_id_sql("app")
    )
}

/// The columns an application's [`AppFields`] are stored in, in [`field_values`] order.
const FIELD_COLUMNS: &str = "name, client_type, grant_types, redirect_uris, allowed_scopes, \
     skip_authorization, enabled, post_logout_redirect_uris, allowed_resources";

/// An application's fields as stored, in [`FIELD_COLUMNS`] order.
fn field_values(fields: &AppFields) -> [Value; 9] {
    [
        Value::Text(fields.name.clone()),
        Value::Text(fields.client_type.as_str().into()),
        Value::Text(join(fields.grant_types.iter().map(|g| g.cli_name()))),
        Value::Text(join(&fields.redirect_uris)),
        fields
            .allowed_scopes
            .as_ref()
            .map_or(Value::Null, |scopes| Value::Text(scopes.to_string())),
        Value::Integer(fields.skip_authorization.into()),
        Value::Integer(fields.enabled.into()),
        Value::Text(join(&fields.post_logout_redirect_uris)),
        Value::Text(join(&fields.allowed_resources)),
    ]
}

/// Whether some usable app registered the origin `?1`.
fn origin_allowed_sql() -> String {
    format!(
        "SELECT EXISTS (SELECT 1 FROM app_origins o
             JOIN applications app ON app.id = o.application_id {JOIN_APP_OWNER}
             WHERE o.origin = ?1 AND {APP_USABLE})"
    )
}

/// The URIs of a space-separated column.
fn uri_list(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An app's allowed origins, sorted: `group_concat` joins them in no guaranteed order.
fn sorted_origins(text: &str) -> Vec<String> {
    let mut origins = uri_list(text);
    origins.sort_unstable();
    origins
}

fn app_from_row(row: &Row<'_>) -> rusqlite::Result<Application> {
    let client_type: String = row.get(4)?;
    let grants: String = row.get(5)?;
    let redirect_uris: String = row.get(6)?;
    let allowed_scopes: Option<String> = row.get(7)?;
    Ok(Application {
        id: row.get(0)?,
        public_id: row.get(14)?,
        client_id: row.get(1)?,
        secret_digest: row.get(2)?,
        fields: AppFields {
            name: row.get(3)?,
            client_type: parsed(4, &client_type, ClientType::parse)?,
            grant_types: grants
                .split(' ')
                .map(|g| parsed(5, g, GrantType::from_cli_name))
                .collect::<Result<_, _>>()?,
            redirect_uris: uri_list(&redirect_uris),
            post_logout_redirect_uris: uri_list(&row.get::<_, String>(13)?),
            allowed_origins: sorted_origins(&row.get::<_, Option<String>>(16)?.unwrap_or_default()),
            allowed_resources: uri_list(&row.get::<_, String>(17)?),
            allowed_scopes: match allowed_scopes {
                Some(text) => Some(parsed(7, &text, Scopes::parse)?),
                None => None,
            },
            skip_authorization: row.get(8)?,
            enabled: row.get(9)?,
        },
        owner_id: row.get(10)?,
        disabled_by_admin: row.get(11)?,
        usable: row.get(12)?,
        dynamically_registered: row.get(15)?,
    })
}

impl Store {
    /// Registers an application and returns its row id. Call it inside [`Store::immediate`]:
    /// the app and its allowed origins are two statements.
    pub fn create_app(&self, app: &NewApplication, now: i64) -> Result<i64, StoreError> {
        self.insert_app(app, false, now)
    }

    /// Stores a new application, `dynamically_registered` when it registered itself (RFC 7591,
    /// [`Store::register_client`]); its row id.
    pub(super) fn insert_app(
        &self,
        app: &NewApplication,
        dynamically_registered: bool,
        now: i64,
    ) -> Result<i64, StoreError> {
        let head = [
            Value::Text(app.client_id.clone()),
            app.secret_digest
                .map_or(Value::Null, |digest| Value::Blob(digest.to_vec())),
            app.owner_id.map_or(Value::Null, Value::Integer),
            Value::Integer(now),
            Value::Integer(dynamically_registered.into()),
        ];
        let sql = format!(
            "INSERT INTO applications (client_id, client_secret_hash, owner_id, created,
                                       dynamically_registered, {FIELD_COLUMNS}, salt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, random()) RETURNING id"
        );
        let values = head.into_iter().chain(field_values(&app.fields));
        let id = self
            .conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(values), |r| r.get(0))?;
        self.set_app_origins(id, &app.fields.allowed_origins, now)?;
        Ok(id)
    }

    /// Saves an owner's changes (`enabled` is the owner's switch; an administrator's stays).
    /// Call it inside [`Store::immediate`], as [`Store::create_app`].
    pub(crate) fn update_app(
        &self,
        id: i64,
        fields: &AppFields,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE applications SET ({FIELD_COLUMNS}) = (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) WHERE id = ?1"
        );
        let values = std::iter::once(Value::Integer(id)).chain(field_values(fields));
        self.conn
            .prepare_cached(&sql)?
            .execute(params_from_iter(values))?;
        self.set_app_origins(id, &fields.allowed_origins, now)
    }

    /// Makes `origins` the app's allowed origins; one that stays keeps its `created`.
    fn set_app_origins(&self, id: i64, origins: &[String], now: i64) -> Result<(), StoreError> {
        let list = serde_json::to_string(origins)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        self.conn
            .prepare_cached(
                "DELETE FROM app_origins WHERE application_id = ?1
                 AND origin NOT IN (SELECT value FROM json_each(?2))",
            )?
            .execute(params![id, list])?;
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO app_origins (application_id, origin, created)
                 SELECT ?1, value, ?3 FROM json_each(?2)",
            )?
            .execute(params![id, list, now])?;
        Ok(())
    }

    /// Whether the database holds any user or application (`serve --dev` wants neither).
    pub(crate) fn has_users_or_apps(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM applications)",
            [],
            |row| row.get(0),
        )?)
    }

    /// Whether some usable application registered `origin` (as browsers send it): the one
    /// question a CORS answer asks, one probe of the index on origin.
    pub(crate) fn origin_is_allowed(&self, origin: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&origin_allowed_sql())?
            .query_row([origin], |row| row.get(0))?)
    }

    /// Saves an edit of the app `id`: its fields, and its secret as `change` says (`made` is the
    /// digest of the new secret, stored for [`SecretChange::Make`]).
    pub(crate) fn save_app_edit(
        &self,
        id: i64,
        fields: &AppFields,
        change: SecretChange,
        made: &Digest32,
        now: i64,
    ) -> Result<(), StoreError> {
        self.update_app(id, fields, now)?;
        match change {
            SecretChange::Keep => Ok(()),
            SecretChange::Drop => self.set_app_secret(id, None),
            SecretChange::Make => self.set_app_secret(id, Some(made)),
        }
    }

    /// Hands the app `id` to another owner.
    pub(crate) fn set_app_owner(&self, id: i64, owner_id: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE applications SET owner_id = ?2 WHERE id = ?1")?
            .execute(params![id, owner_id])?;
        Ok(())
    }

    /// Replaces (or, for a public client, removes) the stored digest of the client secret.
    pub(crate) fn set_app_secret(
        &self,
        id: i64,
        digest: Option<&Digest32>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE applications SET client_secret_hash = ?2 WHERE id = ?1")?
            .execute(params![id, digest])?;
        Ok(())
    }

    /// The application with this client_id.
    pub fn find_app_by_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<Application>, StoreError> {
        self.find_app_where("client_id", &client_id)
    }

    /// The application with this row id.
    pub fn find_app(&self, id: i64) -> Result<Option<Application>, StoreError> {
        self.find_app_where("id", &id)
    }

    /// The application with this public id (what the pages name it by).
    pub fn find_app_by_public_id(
        &self,
        public_id: &str,
    ) -> Result<Option<Application>, StoreError> {
        let Some((id, salt)) = parse_public_id(public_id) else {
            return Ok(None);
        };
        let sql = format!("{} WHERE app.id = ?1 AND app.salt = ?2", select_apps());
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([id, salt], app_from_row)
            .optional()?)
    }

    /// The application whose unique `column` (a name from this file, never input) is `value`.
    fn find_app_where(
        &self,
        column: &str,
        value: &dyn ToSql,
    ) -> Result<Option<Application>, StoreError> {
        let sql = format!("{} WHERE app.{column} = ?1", select_apps());
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([value], app_from_row)
            .optional()?)
    }

    /// Applications, oldest first: every one, or those `owner` owns.
    pub fn list_apps(&self, owner: Option<i64>) -> Result<Vec<Application>, StoreError> {
        let sql = format!(
            "{} WHERE ?1 IS NULL OR app.owner_id = ?1 ORDER BY app.id",
            select_apps()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([owner], app_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The administrator's switch: a disabled app cannot be used whatever its owner's switch
    /// says, and only an administrator enables it again; `false` when there is none.
    pub fn set_app_enabled(&self, id: i64, enabled: bool) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE applications SET disabled_by_admin = NOT ?2 WHERE id = ?1")?
            .execute(params![id, enabled])?;
        Ok(changed > 0)
    }

    /// Whether the application still exists and may be used. Asked inside
    /// [`Store::immediate`], the answer holds until the commit: an app removed or disabled
    /// since its client authenticated gets nothing stored.
    pub(crate) fn app_is_usable(&self, id: i64) -> Result<bool, StoreError> {
        let sql =
            format!("SELECT {APP_USABLE} FROM applications app {JOIN_APP_OWNER} WHERE app.id = ?1");
        let usable = self
            .conn
            .prepare_cached(&sql)?
            .query_row([id], |row| row.get(0))
            .optional()?;
        Ok(usable.unwrap_or(false))
    }

    /// Deletes an application with its grants, tokens and codes; `false` when there was none.
    pub fn delete_app(&self, id: i64) -> Result<bool, StoreError> {
        let removed = self
            .conn
            .prepare_cached("DELETE FROM applications WHERE id = ?1")?
            .execute([id])?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn valid_fields() -> AppFields {
        AppFields {
            name: "bob\"e'i;--ü app".into(),
            client_type: ClientType::Confidential,
            grant_types: vec![GrantType::Password, GrantType::ClientCredentials],
            redirect_uris: vec!["https://a.example/cb".into(), "http://127.0.0.1/cb".into()],
            post_logout_redirect_uris: vec![
                "https://a.example/bye?from=bob\"e'i;--ü".into(),
                "com.example.app:/bye".into(),
            ],
            allowed_origins: vec!["http://127.0.0.1:5173".into(), "https://a.example".into()],
            allowed_resources: vec!["https://api.example/?q=o'brien;--x".into()],
            allowed_scopes: Scopes::parse("read"),
            skip_authorization: false,
            enabled: true,
        }
    }

    pub(crate) fn valid_new_app() -> NewApplication {
        NewApplication {
            client_id: "client-1".into(),
            secret_digest: Some(crate::secret::digest("s")),
            owner_id: None,
            fields: valid_fields(),
        }
    }

    #[test]
    fn apps_round_trip_and_delete() {
        let store = Store::open_in_memory().unwrap();
        let id = store.create_app(&valid_new_app(), 1).unwrap();
        let app = store.find_app_by_client_id("client-1").unwrap().unwrap();
        assert_eq!(app.id, id);
        assert_eq!(app.fields, valid_fields());
        assert_eq!(app.secret_digest, valid_new_app().secret_digest);
        let by_public_id = store.find_app_by_public_id(&app.public_id).unwrap();
        assert_eq!(by_public_id.as_ref(), Some(&app));
        assert_eq!(store.find_app_by_public_id("bob\"e'i;--ü").unwrap(), None);
        assert_eq!(store.find_app(id).unwrap(), Some(app));
        assert_eq!(store.list_apps(None).unwrap().len(), 1);
        assert!(store.delete_app(id).unwrap());
        assert!(!store.delete_app(id).unwrap());
        assert_eq!(store.find_app_by_client_id("client-1").unwrap(), None);
    }

    #[test]
    fn origins_read_back_sorted_whatever_order_they_were_given_in() {
        let store = Store::open_in_memory().unwrap();
        let mut new = valid_new_app();
        new.fields.allowed_origins = ["https://z.example", "http://a.example", "https://m.example"]
            .map(String::from)
            .to_vec();
        let id = store.create_app(&new, 1).unwrap();
        let app = store.find_app(id).unwrap().unwrap();
        assert_eq!(
            app.fields.allowed_origins,
            ["http://a.example", "https://m.example", "https://z.example"]
        );
    }

    #[test]
    fn a_duplicate_client_id_is_an_error_not_a_silent_overwrite() {
        let store = Store::open_in_memory().unwrap();
        store.create_app(&valid_new_app(), 1).unwrap();
        assert!(store.create_app(&valid_new_app(), 2).is_err());
    }

    /// A store with the user bob, and an app bob owns (client id "client-2") to add.
    fn bobs_world() -> (Store, i64, NewApplication) {
        let store = Store::open_in_memory().unwrap();
        let bob = crate::store::users::tests::add_user(&store, "bob");
        let owned = NewApplication {
            owner_id: Some(bob),
            client_id: "client-2".into(),
            ..valid_new_app()
        };
        (store, bob, owned)
    }

    #[test]
    fn owners_list_their_own_apps_and_updates_change_only_the_fields() {
        let (store, bob, owned) = bobs_world();
        store.create_app(&valid_new_app(), 1).unwrap();
        let id = store.create_app(&owned, 1).unwrap();
        let listed = store.list_apps(Some(bob)).unwrap();
        assert_eq!(listed.iter().map(|a| a.id).collect::<Vec<_>>(), vec![id]);
        let changed = AppFields {
            name: "renamed".into(),
            client_type: ClientType::Public,
            grant_types: vec![GrantType::AuthorizationCode],
            redirect_uris: vec!["https://b.example/cb".into()],
            post_logout_redirect_uris: vec![],
            allowed_origins: vec!["https://b.example".into()],
            allowed_resources: vec![],
            allowed_scopes: None,
            skip_authorization: true,
            enabled: false,
        };
        store.update_app(id, &changed, 2).unwrap();
        store.set_app_secret(id, None).unwrap();
        let app = store.find_app(id).unwrap().unwrap();
        assert_eq!(app.fields, changed);
        assert_eq!(
            (app.client_id.as_str(), app.secret_digest),
            ("client-2", None)
        );
        assert_eq!(app.owner_id, Some(bob));
    }

    #[test]
    fn an_app_is_usable_when_its_owner_and_the_administrator_allow_and_the_owner_is_active() {
        let (store, bob, owned) = bobs_world();
        let id = store.create_app(&owned, 1).unwrap();
        let state = || {
            let app = store.find_app(id).unwrap().unwrap();
            assert_eq!(store.app_is_usable(id).unwrap(), app.usable);
            (app.fields.enabled, app.disabled_by_admin, app.usable)
        };
        assert_eq!(state(), (true, false, true));
        assert!(store.set_app_enabled(id, false).unwrap());
        store.update_app(id, &valid_fields(), 2).unwrap();
        assert_eq!(state(), (true, true, false), "the owner cannot undo it");
        assert!(store.set_app_enabled(id, true).unwrap());
        let off = AppFields {
            enabled: false,
            ..valid_fields()
        };
        store.update_app(id, &off, 2).unwrap();
        assert_eq!(
            state(),
            (false, false, false),
            "nor can the administrator undo the owner"
        );
        store.update_app(id, &valid_fields(), 2).unwrap();
        store.set_user_active(bob, false).unwrap();
        assert_eq!(
            state(),
            (true, false, false),
            "a disabled owner's apps stop"
        );
        assert!(!store.set_app_enabled(id + 1, true).unwrap());
        assert!(store.delete_app(id).unwrap());
        assert!(!store.app_is_usable(id).unwrap(), "a removed app");
    }

    #[test]
    fn an_origin_is_allowed_while_a_usable_app_registers_it() {
        let (store, bob, owned) = bobs_world();
        let id = store.create_app(&owned, 1).unwrap();
        let allowed = |origin: &str| store.origin_is_allowed(origin).unwrap();
        assert!(allowed("https://a.example") && allowed("http://127.0.0.1:5173"));
        for other in [
            "https://a.example/",
            "https://A.example",
            "http://a.example",
            "bob\"e'i;--ü",
        ] {
            assert!(!allowed(other), "{other}");
        }
        assert!(store.set_app_enabled(id, false).unwrap());
        assert!(
            !allowed("https://a.example"),
            "disabled by the administrator"
        );
        assert!(store.set_app_enabled(id, true).unwrap());
        store.set_user_active(bob, false).unwrap();
        assert!(!allowed("https://a.example"), "its owner disabled");
        store.set_user_active(bob, true).unwrap();
        let fewer = AppFields {
            allowed_origins: vec!["https://a.example".into()],
            ..valid_fields()
        };
        store.update_app(id, &fewer, 2).unwrap();
        assert!(allowed("https://a.example") && !allowed("http://127.0.0.1:5173"));
        let kept: i64 = store
            .conn
            .query_row(
                "SELECT created FROM app_origins WHERE application_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept, 1, "an origin that stays keeps its created");
        assert!(store.delete_app(id).unwrap());
        assert!(!allowed("https://a.example"));
        let left: i64 = store
            .conn
            .query_row("SELECT count(*) FROM app_origins", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "removed with the app");
    }

    /// The token endpoint asks this of every request with an Origin: it must stay one probe
    /// of the index on origin, then the app and its owner by primary key, never a scan.
    #[test]
    fn the_origin_lookup_probes_the_origin_index() {
        let store = Store::open_in_memory().unwrap();
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", origin_allowed_sql()))
            .unwrap()
            .query_map(["https://a.example"], |row| row.get(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter()
                .any(|step| step.contains("USING INDEX app_origins_origin (origin=?)")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN o")),
            "{plan:?}"
        );
    }
}
