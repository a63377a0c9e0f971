//! Users and groups.

use super::{Store, StoreError};
use crate::model::{Group, User};
use rusqlite::{OptionalExtension, Row, params};

/// A user as the resource API shows it (DRF's UserSerializer, without the password).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserView {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Contact address.
    pub email: String,
    /// Django's name for an admin.
    pub is_staff: bool,
    /// Whether the user may log in.
    pub is_active: bool,
    /// Ids of the groups the user belongs to.
    pub groups: Vec<i64>,
}

/// What adding a user stores; the database gives it its row id and its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewUser<'a> {
    /// Login name.
    pub username: &'a str,
    /// Contact address, may be empty.
    pub email: &'a str,
    /// An administrator or the CLI set the address; false when the user gave it themselves.
    pub email_verified: bool,
    /// Display name, may be empty.
    pub name: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// May use the admin pages and create users.
    pub is_admin: bool,
}

const USER_COLUMNS: &str =
    "id, username, email, email_verified, name, subject, password_hash, is_admin, is_active";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        email: row.get(2)?,
        email_verified: row.get(3)?,
        name: row.get(4)?,
        subject: row.get(5)?,
        password_hash: row.get(6)?,
        is_admin: row.get(7)?,
        is_active: row.get(8)?,
    })
}

fn group_from_row(row: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        id: row.get(0)?,
        name: row.get(1)?,
    })
}

impl Store {
    /// Adds a user (the schema's trigger gives them a fresh subject); `None` when the username
    /// is taken.
    pub fn create_user(&self, user: &NewUser<'_>, now: i64) -> Result<Option<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO users (username, email, email_verified, name, password_hash, is_admin, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (username) DO NOTHING RETURNING id",
        )?;
        let values = params![
            user.username,
            user.email,
            user.email_verified,
            user.name,
            user.password_hash,
            user.is_admin,
            now
        ];
        Ok(stmt.query_row(values, |r| r.get(0)).optional()?)
    }

    /// The user with this row id (for an id_token's or userinfo's claims).
    pub fn find_user(&self, id: i64) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([id], user_from_row)
            .optional()?)
    }

    /// The user with this exact username.
    pub fn find_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([username], user_from_row)
            .optional()?)
    }

    /// Enables or disables a user; `false` when there is no such user. A disabled user cannot
    /// log in and their tokens stop working.
    pub fn set_user_active(&self, id: i64, active: bool) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE users SET is_active = ?2 WHERE id = ?1")?
            .execute(params![id, active])?;
        Ok(changed > 0)
    }

    /// Users as the API shows them, by id; `only` narrows to one user.
    pub fn user_views(&self, only: Option<i64>) -> Result<Vec<UserView>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT u.id, u.username, u.email, u.is_admin, u.is_active,
                    (SELECT group_concat(group_id, ' ') FROM user_groups g WHERE g.user_id = u.id)
             FROM users u WHERE ?1 IS NULL OR u.id = ?1 ORDER BY u.id",
        )?;
        let rows = stmt.query_map([only], |row| {
            let groups: Option<String> = row.get(5)?;
            Ok(UserView {
                id: row.get(0)?,
                username: row.get(1)?,
                email: row.get(2)?,
                is_staff: row.get(3)?,
                is_active: row.get(4)?,
                groups: groups
                    .unwrap_or_default()
                    .split(' ')
                    .filter_map(|g| g.parse().ok())
                    .collect(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds a group; `None` when the name is taken.
    pub fn create_group(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO groups (name) VALUES (?1) ON CONFLICT (name) DO NOTHING RETURNING id",
        )?;
        Ok(stmt.query_row([name], |r| r.get(0)).optional()?)
    }

    /// Puts a user in a group (no-op when already a member).
    pub fn add_group_member(&self, group_id: i64, user_id: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO user_groups (user_id, group_id) VALUES (?1, ?2)",
            )?
            .execute([user_id, group_id])?;
        Ok(())
    }

    /// Groups by id; `only` narrows to one group.
    pub fn groups(&self, only: Option<i64>) -> Result<Vec<Group>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name FROM groups WHERE ?1 IS NULL OR id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([only], group_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A user with this name, no email and no display name, not an administrator.
    pub(crate) fn valid_new_user(username: &str) -> NewUser<'_> {
        NewUser {
            username,
            email: "",
            email_verified: false,
            name: "",
            password_hash: "h",
            is_admin: false,
        }
    }

    /// Adds `username` (see [`valid_new_user`]) and returns their row id.
    pub(crate) fn add_user(store: &Store, username: &str) -> i64 {
        store
            .create_user(&valid_new_user(username), 1)
            .unwrap()
            .unwrap()
    }

    /// 32 lowercase hex digits: 128 random bits, as the schema draws them.
    pub(crate) fn is_subject(text: &str) -> bool {
        text.len() == 32 && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    }

    #[test]
    fn users_are_unique_by_name_and_listed_with_groups() {
        let store = Store::open_in_memory().unwrap();
        let hostile = NewUser {
            email: "b@example.com",
            is_admin: true,
            ..valid_new_user("bob\"e'i;--ü")
        };
        let bob = store.create_user(&hostile, 5).unwrap().unwrap();
        assert_eq!(
            store
                .create_user(&valid_new_user("bob\"e'i;--ü"), 6)
                .unwrap(),
            None
        );
        let eve = add_user(&store, "eve");
        let staff = store.create_group("staff").unwrap().unwrap();
        assert_eq!(store.create_group("staff").unwrap(), None);
        store.add_group_member(staff, bob).unwrap();
        store.add_group_member(staff, bob).unwrap();
        let views = store.user_views(None).unwrap();
        assert_eq!(views.len(), 2);
        assert_eq!(
            (views[0].is_staff, views[0].groups.clone()),
            (true, vec![staff])
        );
        assert_eq!(
            store.user_views(Some(eve)).unwrap()[0].groups,
            Vec::<i64>::new()
        );
        assert_eq!(store.user_views(Some(999)).unwrap(), vec![]);
        assert_eq!(
            store
                .find_user_by_username("bob\"e'i;--ü")
                .unwrap()
                .unwrap()
                .email,
            "b@example.com"
        );
        assert_eq!(
            store.groups(None).unwrap(),
            vec![Group {
                id: staff,
                name: "staff".into()
            }]
        );
    }

    #[test]
    fn a_user_is_stored_with_their_openid_fields_and_found_by_id() {
        let store = Store::open_in_memory().unwrap();
        let new = NewUser {
            email: "b@example.com",
            email_verified: true,
            name: "Bob \"e'i;--ü",
            ..valid_new_user("bob")
        };
        let id = store.create_user(&new, 1).unwrap().unwrap();
        let bob = store.find_user(id).unwrap().unwrap();
        assert_eq!(
            (
                bob.username.as_str(),
                bob.email.as_str(),
                bob.email_verified,
                bob.name.as_str()
            ),
            ("bob", "b@example.com", true, "Bob \"e'i;--ü")
        );
        assert!(is_subject(&bob.subject), "{}", bob.subject);
        assert_eq!(store.find_user_by_username("bob").unwrap(), Some(bob));
        assert_eq!(store.find_user(id + 1).unwrap(), None);
    }

    #[test]
    fn subjects_are_distinct_and_never_reused_for_a_reused_row_id() {
        let store = Store::open_in_memory().unwrap();
        let subject = |id| store.find_user(id).unwrap().unwrap().subject;
        let (bob, eve) = (add_user(&store, "bob"), add_user(&store, "eve"));
        let (bobs, eves) = (subject(bob), subject(eve));
        assert!(is_subject(&bobs) && is_subject(&eves), "{bobs} {eves}");
        assert_ne!(bobs, eves);
        // Without AUTOINCREMENT SQLite hands the highest id out again after a delete.
        store
            .conn
            .execute("DELETE FROM users WHERE id = ?1", [eve])
            .unwrap();
        let mallory = add_user(&store, "mallory");
        assert_eq!(mallory, eve, "the row id is reused");
        let mallorys = subject(mallory);
        assert!(is_subject(&mallorys), "{mallorys}");
        assert!(mallorys != eves && mallorys != bobs);
    }
}
