//! Device authorizations (RFC 8628), looked up by the SHA-256 of the device code (the device's
//! polls) or of the user code's normal form (the user page).

use super::{Store, StoreError, parsed, resources_at};
use crate::model::{DeviceCode, DeviceStatus};
use crate::oauth::resource::Resources;
use crate::oauth::scope::Scopes;
use crate::secret::Digest32;
use rusqlite::{OptionalExtension, Row, params};

/// What a device authorization request stores. Callers run this inside [`Store::immediate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewDeviceCode<'a> {
    /// Digest of the device code.
    pub device_digest: Digest32,
    /// Digest of the user code's normal form.
    pub user_digest: Digest32,
    /// The client.
    pub application_id: i64,
    /// The scope asked for.
    pub scope: &'a Scopes,
    /// The resources (RFC 8707) asked for.
    pub resources: &'a Resources,
    /// Seconds between polls.
    pub interval: i64,
    /// Issued at.
    pub now: i64,
    /// Expires at.
    pub expires: i64,
}

/// A user's answer to a device authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceDecision {
    /// Allow (else deny).
    pub approve: bool,
    /// Who decided.
    pub user_id: i64,
    /// When they last authenticated.
    pub auth_time: i64,
}

const COLUMNS: &str = "d.id, d.application_id, d.scope, d.interval, d.status, d.user_id,
    COALESCE(u.is_active, 1), d.auth_time, d.expires, d.used, d.grant_id, d.resources";

fn from_row(row: &Row<'_>) -> rusqlite::Result<DeviceCode> {
    let scope: String = row.get(2)?;
    let status: String = row.get(4)?;
    Ok(DeviceCode {
        id: row.get(0)?,
        application_id: row.get(1)?,
        scope: parsed(2, &scope, Scopes::parse)?,
        interval: row.get(3)?,
        status: parsed(4, &status, DeviceStatus::parse)?,
        user_id: row.get(5)?,
        user_active: row.get(6)?,
        auth_time: row.get(7)?,
        expires: row.get(8)?,
        used: row.get(9)?,
        grant_id: row.get(10)?,
        resources: resources_at(row, 11)?,
    })
}

impl Store {
    /// Stores a new device authorization; `false` (nothing stored) when either code is already
    /// taken, so that the caller draws new ones: a user code finds one row only.
    pub(crate) fn create_device_code(&self, new: &NewDeviceCode<'_>) -> Result<bool, StoreError> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO device_codes (device_code_hash, user_code_hash, application_id, scope,
                     interval, created, expires, resources)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                new.device_digest,
                new.user_digest,
                new.application_id,
                new.scope.to_string(),
                new.interval,
                new.now,
                new.expires,
                new.resources.stored()
            ])?;
        Ok(inserted == 1)
    }

    /// The device authorization with this device code digest, in any state.
    pub(crate) fn find_device_code(
        &self,
        device_digest: &Digest32,
    ) -> Result<Option<DeviceCode>, StoreError> {
        self.device_code_where("d.device_code_hash", device_digest)
    }

    /// The device authorization with this user code digest, in any state.
    pub(crate) fn find_device_code_by_user_code(
        &self,
        user_digest: &Digest32,
    ) -> Result<Option<DeviceCode>, StoreError> {
        self.device_code_where("d.user_code_hash", user_digest)
    }

    fn device_code_where(
        &self,
        column: &str,
        digest: &Digest32,
    ) -> Result<Option<DeviceCode>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM device_codes d LEFT JOIN users u ON u.id = d.user_id
             WHERE {column} = ?1"
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([digest], from_row)
            .optional()?)
    }

    /// Records a user's decision on a pending device authorization that is unexpired at `now`;
    /// `false` when it was no longer that (decided or expired meanwhile), and nothing changed.
    pub(crate) fn decide_device_code(
        &self,
        id: i64,
        decision: DeviceDecision,
        now: i64,
    ) -> Result<bool, StoreError> {
        let status = if decision.approve {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE device_codes SET status = ?2, user_id = ?3, auth_time = ?4
                 WHERE id = ?1 AND status = 'pending' AND used IS NULL AND expires > ?5",
            )?
            .execute(params![
                id,
                status.as_str(),
                decision.user_id,
                decision.auth_time,
                now
            ])?;
        Ok(changed == 1)
    }

    /// Marks a device code exchanged, remembering the grant it produced (to revoke it on a
    /// replay).
    pub(crate) fn mark_device_code_used(
        &self,
        id: i64,
        now: i64,
        grant_id: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE device_codes SET used = ?2, grant_id = ?3 WHERE id = ?1")?
            .execute([id, now, grant_id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::resource::Resources;
    use crate::secret::digest;
    use crate::store::apps::tests::valid_new_app;
    use crate::store::users::tests::add_user;

    fn valid_new<'a>(
        app: i64,
        (scope, resources): (&'a Scopes, &'a Resources),
    ) -> NewDeviceCode<'a> {
        NewDeviceCode {
            device_digest: digest("device\"e'i;--ü"),
            user_digest: digest("BCDFGHJK"),
            application_id: app,
            scope,
            resources,
            interval: 5,
            now: 100,
            expires: 700,
        }
    }

    #[test]
    fn codes_are_found_by_either_digest_and_decided_once() {
        let store = Store::open_in_memory().unwrap();
        let app = store.create_app(&valid_new_app(), 1).unwrap();
        let scope = Scopes::parse("read").unwrap();
        let resources = Resources::parse(&["https://api.example/v1", "urn:example:b"]).unwrap();
        let asked = (&scope, &resources);
        assert!(store.create_device_code(&valid_new(app, asked)).unwrap());
        let taken_user_code = NewDeviceCode {
            device_digest: digest("other"),
            ..valid_new(app, asked)
        };
        assert!(!store.create_device_code(&taken_user_code).unwrap());
        let by_device = store.find_device_code(&digest("device\"e'i;--ü")).unwrap();
        let by_user = store
            .find_device_code_by_user_code(&digest("BCDFGHJK"))
            .unwrap();
        assert_eq!(by_device, by_user);
        let code = by_device.unwrap();
        assert_eq!(
            (code.status, code.interval, code.expires, code.user_id),
            (DeviceStatus::Pending, 5, 700, None)
        );
        assert_eq!(
            code.resources, resources,
            "kept to show and to bound the tokens"
        );
        assert!(store.find_device_code(&digest("other")).unwrap().is_none());
        let user = add_user(&store, "bob\"e'i;--ü");
        let deny = DeviceDecision {
            approve: false,
            user_id: user,
            auth_time: 90,
        };
        assert!(
            !store.decide_device_code(code.id, deny, 700).unwrap(),
            "expired"
        );
        assert!(store.decide_device_code(code.id, deny, 699).unwrap());
        let approve = DeviceDecision {
            approve: true,
            ..deny
        };
        assert!(!store.decide_device_code(code.id, approve, 120).unwrap());
        let decided = store.find_device_code(&digest("device\"e'i;--ü")).unwrap();
        let decided = decided.unwrap();
        assert_eq!(
            (decided.status, decided.user_id, decided.auth_time),
            (DeviceStatus::Denied, Some(user), Some(90))
        );
    }

    #[test]
    fn the_sweep_removes_expired_codes_but_keeps_a_used_one_while_its_grant_lives() {
        use crate::store::sweep::tests::issue_app_grant;
        let store = Store::open_in_memory().unwrap();
        let app = store.create_app(&valid_new_app(), 1).unwrap();
        let (scope, none) = (Scopes::parse("read").unwrap(), Resources::default());
        let new = |name: &str| NewDeviceCode {
            device_digest: digest(name),
            user_digest: digest(&format!("{name}-user")),
            ..valid_new(app, (&scope, &none))
        };
        for name in ["unused", "used"] {
            assert!(store.create_device_code(&new(name)).unwrap());
        }
        let grant = issue_app_grant(&store, app, "used", 100, 5000);
        let used = store.find_device_code(&digest("used")).unwrap().unwrap();
        store.mark_device_code_used(used.id, 200, grant).unwrap();
        assert_eq!(
            store
                .clear_expired(699, None, &|| true)
                .unwrap()
                .device_codes,
            0
        );
        let cleared = store.clear_expired(700, None, &|| true).unwrap();
        assert_eq!(cleared.device_codes, 1, "the unused one");
        assert!(store.find_device_code(&digest("unused")).unwrap().is_none());
        assert!(store.find_device_code(&digest("used")).unwrap().is_some());
        store.revoke_grant(grant, 800).unwrap();
        let emptied = store.clear_expired(5000, None, &|| true).unwrap();
        assert_eq!((emptied.grants, emptied.device_codes), (1, 0));
        let after = store.clear_expired(5000, None, &|| true).unwrap();
        assert_eq!(
            after.device_codes, 1,
            "its grant gone, the next sweep takes it"
        );
    }
}
