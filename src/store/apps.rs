//! Client applications.

use super::{Store, StoreError, join, parsed};
use crate::model::{Application, ClientType, GrantType};
use crate::oauth::scope::Scopes;
use crate::secret::Digest32;
use rusqlite::{OptionalExtension, Row, params};

/// What registering an application stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    /// Generated public identifier.
    pub client_id: String,
    /// SHA-256 of the generated secret; `None` for public clients.
    pub secret_digest: Option<Digest32>,
    /// Display name.
    pub name: String,
    /// Confidential or public.
    pub client_type: ClientType,
    /// Grant types it may use.
    pub grant_types: Vec<GrantType>,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Scopes it may request; `None`: all configured.
    pub allowed_scopes: Option<Scopes>,
    /// Skip the consent page.
    pub skip_authorization: bool,
    /// Owning user.
    pub owner_id: Option<i64>,
}

const APP_COLUMNS: &str = "id, client_id, client_secret_hash, name, client_type, grant_types, redirect_uris, \
                           allowed_scopes, skip_authorization, enabled, owner_id";

fn app_from_row(row: &Row<'_>) -> rusqlite::Result<Application> {
    let client_type: String = row.get(4)?;
    let grants: String = row.get(5)?;
    let redirect_uris: String = row.get(6)?;
    let allowed_scopes: Option<String> = row.get(7)?;
    Ok(Application {
        id: row.get(0)?,
        client_id: row.get(1)?,
        secret_digest: row.get(2)?,
        name: row.get(3)?,
        client_type: parsed(4, &client_type, ClientType::parse)?,
        grant_types: grants
            .split(' ')
            .map(|g| parsed(5, g, GrantType::parse))
            .collect::<Result<_, _>>()?,
        redirect_uris: redirect_uris
            .split(' ')
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect(),
        allowed_scopes: match allowed_scopes {
            Some(text) => Some(parsed(7, &text, Scopes::parse)?),
            None => None,
        },
        skip_authorization: row.get(8)?,
        enabled: row.get(9)?,
        owner_id: row.get(10)?,
    })
}

impl Store {
    /// Registers an application and returns its row id.
    pub fn create_app(&self, app: &NewApplication, now: i64) -> Result<i64, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO applications (client_id, client_secret_hash, name, client_type, grant_types, redirect_uris,
                                       allowed_scopes, skip_authorization, owner_id, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
        )?;
        let id = stmt.query_row(
            params![
                app.client_id,
                app.secret_digest,
                app.name,
                app.client_type.as_str(),
                join(app.grant_types.iter().map(|g| g.as_str())),
                join(&app.redirect_uris),
                app.allowed_scopes.as_ref().map(Scopes::to_string),
                app.skip_authorization,
                app.owner_id,
                now
            ],
            |r| r.get(0),
        )?;
        Ok(id)
    }

    /// The application with this client_id.
    pub fn find_app_by_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<Application>, StoreError> {
        let sql = format!("SELECT {APP_COLUMNS} FROM applications WHERE client_id = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([client_id], app_from_row)
            .optional()?)
    }

    /// Every application, oldest first.
    pub fn list_apps(&self) -> Result<Vec<Application>, StoreError> {
        let sql = format!("SELECT {APP_COLUMNS} FROM applications ORDER BY id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], app_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Enables or disables an application (DOT's is_usable); `false` when there is none.
    pub fn set_app_enabled(&self, client_id: &str, enabled: bool) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE applications SET enabled = ?2 WHERE client_id = ?1")?
            .execute(params![client_id, enabled])?;
        Ok(changed > 0)
    }

    /// Deletes an application with its grants and tokens; `false` when there was none.
    pub fn delete_app(&self, client_id: &str) -> Result<bool, StoreError> {
        let removed = self
            .conn
            .prepare_cached("DELETE FROM applications WHERE client_id = ?1")?
            .execute([client_id])?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn valid_new_app() -> NewApplication {
        NewApplication {
            client_id: "client-1".into(),
            secret_digest: Some(crate::secret::digest("s")),
            name: "bob\"e'i;--ü app".into(),
            client_type: ClientType::Confidential,
            grant_types: vec![GrantType::Password, GrantType::ClientCredentials],
            redirect_uris: vec!["https://a.example/cb".into(), "http://127.0.0.1/cb".into()],
            allowed_scopes: Scopes::parse("read"),
            skip_authorization: false,
            owner_id: None,
        }
    }

    #[test]
    fn apps_round_trip_and_delete() {
        let store = Store::open_in_memory().unwrap();
        let id = store.create_app(&valid_new_app(), 1).unwrap();
        let app = store.find_app_by_client_id("client-1").unwrap().unwrap();
        let new = valid_new_app();
        assert_eq!(app.id, id);
        assert_eq!(
            (
                app.name,
                app.secret_digest,
                app.grant_types,
                app.redirect_uris,
                app.allowed_scopes,
                app.enabled
            ),
            (
                new.name,
                new.secret_digest,
                new.grant_types,
                new.redirect_uris,
                new.allowed_scopes,
                true
            )
        );
        assert_eq!(store.list_apps().unwrap().len(), 1);
        assert!(store.delete_app("client-1").unwrap());
        assert!(!store.delete_app("client-1").unwrap());
        assert_eq!(store.find_app_by_client_id("client-1").unwrap(), None);
    }

    #[test]
    fn a_duplicate_client_id_is_an_error_not_a_silent_overwrite() {
        let store = Store::open_in_memory().unwrap();
        store.create_app(&valid_new_app(), 1).unwrap();
        assert!(store.create_app(&valid_new_app(), 2).is_err());
    }
}
