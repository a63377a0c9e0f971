//! The OAuth 2.0 protocol, pure: no SQL, no HTTP, no clock, no RNG. Every rule is a table test.

pub mod authorize;
pub mod client;
pub(crate) mod client_metadata;
pub(crate) mod device;
pub mod error;
pub mod id_token;
pub mod logout;
pub(crate) mod origin;
pub(crate) mod pkce;
pub mod prompt;
pub mod redirect;
pub mod registration;
pub mod resource;
pub mod response_type;
pub mod scope;
pub mod token;

/// Records for the protocol core's table tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::model::{AppFields, Application, ClientType, DeviceCode, DeviceStatus, GrantType};
    use crate::oauth::resource::Resources;
    use crate::oauth::scope::Scopes;

    /// A confidential client (secret "s3cret") with every grant and one redirect URI.
    pub(crate) fn valid_app() -> Application {
        Application {
            id: 7,
            public_id: "0123456789abcdef0123456789abcdef".into(),
            client_id: "c".into(),
            secret_digest: Some(crate::secret::digest("s3cret")),
            fields: AppFields {
                name: "App".into(),
                client_type: ClientType::Confidential,
                grant_types: GrantType::ALL.to_vec(),
                redirect_uris: vec!["https://app.example/cb".into()],
                post_logout_redirect_uris: vec![],
                allowed_origins: vec![],
                allowed_resources: vec![],
                allowed_scopes: None,
                skip_authorization: false,
                enabled: true,
            },
            disabled_by_admin: false,
            usable: true,
            owner_id: None,
            dynamically_registered: false,
        }
    }

    /// A pending device code of [`valid_app`] for `read`, interval 5, expiring at 1600.
    pub(crate) fn valid_device_code() -> DeviceCode {
        DeviceCode {
            id: 1,
            application_id: 7,
            scope: Scopes::parse("read").unwrap(),
            resources: Resources::default(),
            interval: 5,
            status: DeviceStatus::Pending,
            user_id: None,
            user_active: true,
            auth_time: None,
            expires: 1600,
            used: None,
            grant_id: None,
        }
    }

    /// `app` with one of its fields changed by `change`.
    pub(crate) fn with_fields(
        mut app: Application,
        change: impl FnOnce(&mut AppFields),
    ) -> Application {
        change(&mut app.fields);
        app
    }
}
