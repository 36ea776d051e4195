//! Signing in: passwords, API tokens, browser sessions and the login limiter.
//!
//! Passwords are hashed with argon2id. Tokens and session ids are 256-bit
//! random secrets, so a plain SHA-256 of them is what the database keeps: a
//! stolen database yields no usable credential.

use crate::error::{Error, Result};
use crate::{Actor, Engine};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use gloss_store::NewUser;
use gloss_types::{ApiToken, Code, Role, Timestamp, User};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The prefix of every API token, so that leaked tokens are easy to find in code.
const TOKEN_PREFIX: &str = "gls_";
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

/// A token as issued: the secret is shown once and never stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: ApiToken,
    pub secret: String,
}

/// A new browser session: the secret goes into an HttpOnly cookie, the CSRF
/// token to the page, which echoes it in a header on every write.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user: User,
    pub secret: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// A caller identified by a session cookie.
#[derive(Debug, Clone)]
pub struct SessionCaller {
    pub actor: Actor,
    pub csrf_token: String,
}

/// How many failed sign-ins are allowed in a window before further attempts
/// are refused, per username and per client address.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub window: Duration,
    pub failures_per_username: usize,
    pub failures_per_client: usize,
}

impl Default for LoginLimits {
    fn default() -> LoginLimits {
        LoginLimits {
            window: Duration::from_secs(15 * 60),
            failures_per_username: 10,
            failures_per_client: 50,
        }
    }
}

/// Counts failed sign-ins in memory. Each instance counts its own; that is
/// enough to make password guessing impractically slow.
#[derive(Debug)]
pub(crate) struct LoginLimiter {
    limits: LoginLimits,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub(crate) fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter {
            limits,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(username: &str, client: &str) -> [(String, usize); 2] {
        [
            (format!("user:{}", username.to_lowercase()), 0),
            (format!("client:{client}"), 1),
        ]
    }

    /// Refuses when either key has used up its failures in the window.
    fn check(&self, username: &str, client: &str) -> Result<()> {
        let now = Instant::now();
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (key, kind) in LoginLimiter::keys(username, client) {
            let limit = if kind == 0 {
                self.limits.failures_per_username
            } else {
                self.limits.failures_per_client
            };
            if let Some(times) = failures.get_mut(&key) {
                times.retain(|at| now.duration_since(*at) < self.limits.window);
                if times.len() >= limit {
                    let oldest = times.first().copied().unwrap_or(now);
                    let retry_after = self
                        .limits
                        .window
                        .saturating_sub(now.duration_since(oldest))
                        .as_secs()
                        + 1;
                    return Err(Error {
                        retry_after: Some(retry_after),
                        ..Error::new(
                            Code::TooManyRequests,
                            "too many failed sign-ins; try again later",
                        )
                    });
                }
            }
        }
        Ok(())
    }

    fn record_failure(&self, username: &str, client: &str) {
        let now = Instant::now();
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget idle keys so that a flood of made-up usernames cannot grow the map forever.
        if failures.len() > 100_000 {
            failures.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|at| now.duration_since(*at) < self.limits.window)
            });
        }
        for (key, _) in LoginLimiter::keys(username, client) {
            failures.entry(key).or_default().push(now);
        }
    }
}

impl Engine {
    /// Checks a username and password. Failures are counted per username and
    /// per `client` (the caller's address), and refused past the limits.
    pub async fn verify_password(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<User> {
        self.login_limiter.check(username, client)?;
        let found = match self.store.user_with_password(username).await {
            Ok(found) => Some(found),
            Err(gloss_store::Error::NotFound) => None,
            Err(err) => return Err(err.into()),
        };
        // An unknown user costs the same hashing work, so timing reveals nothing.
        let hash = found
            .as_ref()
            .map(|(_, hash)| hash.clone())
            .unwrap_or_else(|| dummy_hash().to_string());
        let password_ok = verify_hash(password.to_string(), hash).await?;
        match found {
            Some((user, _)) if password_ok && user.active => Ok(user),
            _ => {
                self.login_limiter.record_failure(username, client);
                Err(Error::new(
                    Code::InvalidCredentials,
                    "wrong username or password",
                ))
            }
        }
    }

    /// Issues an API token for `user` (the caller themselves, or anyone for an operator).
    pub async fn issue_token(&self, user: &User, name: &str) -> Result<NewToken> {
        let name = name.trim();
        if name.chars().count() > 100 {
            return Err(Error::invalid("name", "must be at most 100 characters"));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let name = if name.is_empty() { "api" } else { name };
        let token = self
            .store
            .create_token(user.id, name, &hash_secret(&secret), &prefix)
            .await?;
        Ok(NewToken { token, secret })
    }

    /// The user behind an API token.
    pub async fn actor_from_token(&self, secret: &str) -> Result<Actor> {
        let (user, token_id, last_used_at) =
            match self.store.user_by_token_hash(&hash_secret(secret)).await {
                Ok(found) => found,
                Err(gloss_store::Error::NotFound) => {
                    return Err(Error::new(
                        Code::Unauthenticated,
                        "the API token is invalid or revoked",
                    ))
                }
                Err(err) => return Err(err.into()),
            };
        let now = Timestamp::now();
        // Recording every use would turn every read into a write; once a minute is enough.
        if last_used_at.is_none_or(|at| now.millis() - at.millis() > 60_000) {
            self.store.touch_token(token_id, now).await?;
        }
        Ok(Actor::User(user))
    }

    pub async fn start_session(&self, user: User) -> Result<NewSession> {
        let secret = random_secret();
        let csrf_token = random_secret();
        let expires_at = Timestamp::now().plus_seconds(self.config.session_ttl_seconds);
        self.store
            .create_session(user.id, &hash_secret(&secret), &csrf_token, expires_at)
            .await?;
        Ok(NewSession {
            user,
            secret,
            csrf_token,
            expires_at,
        })
    }

    pub async fn caller_from_session(&self, secret: &str) -> Result<SessionCaller> {
        match self.store.session(&hash_secret(secret)).await {
            Ok(session) => Ok(SessionCaller {
                actor: Actor::User(session.user),
                csrf_token: session.csrf_token,
            }),
            Err(gloss_store::Error::NotFound) => Err(Error::new(
                Code::Unauthenticated,
                "the session has expired; sign in again",
            )),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn end_session(&self, secret: &str) -> Result<()> {
        Ok(self.store.delete_session(&hash_secret(secret)).await?)
    }

    /// Creates the first admin when the instance has none. Returns the
    /// password when it was generated here, to be shown once.
    pub async fn ensure_admin(
        &self,
        password: Option<&str>,
    ) -> Result<Option<(User, Option<String>)>> {
        if self.store.count_active_admins().await? > 0 {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(given) => (given.to_string(), None),
            None => {
                let generated = random_secret()[..20].to_string();
                (generated.clone(), Some(generated))
            }
        };
        let user = self
            .create_user(&Actor::Operator, "admin", &password, Role::Admin)
            .await?;
        Ok(Some((user, generated)))
    }

    /// Creates an account. Admins only (or the operator).
    pub async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<User> {
        actor.require_admin("create accounts")?;
        check_username(username)?;
        check_password(password)?;
        let password_hash = hash_password(password.to_string()).await?;
        let new = NewUser {
            username: username.to_string(),
            password_hash,
            role,
        };
        Ok(self.store.create_user(&new).await?)
    }

    /// Changes the caller's own password after checking the current one, and
    /// signs them out of every browser.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        client: &str,
    ) -> Result<()> {
        let Some(user) = actor.user() else {
            return Err(Error::forbidden("the operator has no password"));
        };
        self.verify_password(&user.username, current, client)
            .await
            .map_err(|err| {
                if err.code == Code::InvalidCredentials {
                    Error::invalid("current_password", "is wrong")
                } else {
                    err
                }
            })?;
        check_password(new).map_err(|err| Error {
            field: Some("new_password".to_string()),
            ..err
        })?;
        let hash = hash_password(new.to_string()).await?;
        self.store.set_password_hash(user.id, &hash).await?;
        self.store.delete_sessions_of(user.id).await?;
        Ok(())
    }

    /// Sets a password without knowing the old one (operator only: `gloss user password`).
    pub async fn reset_password(&self, actor: &Actor, username: &str, new: &str) -> Result<()> {
        actor.require_admin("reset passwords")?;
        let user = self.user_by_username(actor, username).await?;
        check_password(new)?;
        let hash = hash_password(new.to_string()).await?;
        self.store.set_password_hash(user.id, &hash).await?;
        self.store.delete_sessions_of(user.id).await?;
        Ok(())
    }
}

pub(crate) fn check_username(username: &str) -> Result<()> {
    let valid_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if username.is_empty() || username.len() > 64 || !valid_chars {
        return Err(Error::invalid(
            "username",
            "must be 1 to 64 characters: letters, digits and _ - . @",
        ));
    }
    Ok(())
}

pub(crate) fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::invalid(
            "password",
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// 256 random bits, URL-safe base64.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// argon2id is deliberately slow: it runs off the async threads.
pub(crate) async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| Error::internal(format!("hashing the password: {err}")))
    })
    .await
    .map_err(|err| Error::internal(format!("hashing the password: {err}")))?
}

async fn verify_hash(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|err| Error::internal(format!("checking the password: {err}")))
}

/// A real hash of a random password, made once.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(random_secret().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_refuses_after_the_limit_and_names_a_retry_time() {
        let limiter = LoginLimiter::new(LoginLimits {
            window: Duration::from_secs(60),
            failures_per_username: 3,
            failures_per_client: 100,
        });
        for _ in 0..3 {
            assert!(limiter.check("alice", "127.0.0.1").is_ok());
            limiter.record_failure("alice", "127.0.0.1");
        }
        let err = limiter.check("Alice", "10.0.0.9").unwrap_err();
        assert_eq!(err.code, Code::TooManyRequests);
        assert!(err.retry_after.is_some_and(|secs| (1..=61).contains(&secs)));
        assert!(limiter.check("bob", "127.0.0.1").is_ok());
    }

    #[test]
    fn secrets_are_random_and_hashes_fixed_length() {
        assert_ne!(random_secret(), random_secret());
        assert_eq!(hash_secret("x").len(), 64);
    }
}
