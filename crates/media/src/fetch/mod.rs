//! Fetching media from a URL given by a user, without letting that URL reach
//! the server's own network (server-side request forgery).
//!
//! Every hop is checked the same way: the scheme must be http or https, the
//! host is resolved here and every address it resolves to must be public or
//! allow-listed, and the connection is then made to exactly those addresses,
//! so a DNS answer that changes between the check and the connection (DNS
//! rebinding) cannot slip a private address in. Redirects are followed by
//! hand so that each new location is checked before it is contacted.

mod address;
#[cfg(test)]
mod tests;

use crate::error::error_chain;
use crate::{Error, MediaStore, Result, Stored, UploadLimits};
use bytes::Bytes;
use futures::stream::BoxStream;
use reqwest::{StatusCode, Url};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use url::Host;

pub use ipnet::IpNet;

/// What a [`Fetcher`] may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Networks that may be reached even though they are not public (an
    /// internal media server, say); see [`FetchPolicy::parse_allow`].
    pub allow: Vec<IpNet>,
    /// The most bytes a body may have.
    pub max_bytes: u64,
    /// For the whole fetch: every lookup, connection, redirect and the body.
    pub timeout: Duration,
    pub max_redirects: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow: Vec::new(),
            max_bytes: UploadLimits::default().max_bytes,
            timeout: Duration::from_secs(60),
            max_redirects: 5,
        }
    }
}

impl FetchPolicy {
    /// Parses allow-list entries: networks like `10.0.0.0/8` or `fd00::/8`,
    /// or single addresses like `10.1.2.3`.
    pub fn parse_allow(entries: &[String]) -> Result<Vec<IpNet>> {
        entries
            .iter()
            .map(|entry| {
                parse_network(entry.trim()).map_err(|reason| Error::BadCidr {
                    entry: entry.clone(),
                    reason,
                })
            })
            .collect()
    }

    fn allows(&self, address: IpAddr) -> bool {
        // ::ffff:10.0.0.1 is allowed by 10.0.0.0/8 too.
        let canonical = address.to_canonical();
        self.allow
            .iter()
            .any(|network| network.contains(&address) || network.contains(&canonical))
    }
}

fn parse_network(text: &str) -> std::result::Result<IpNet, String> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: IpAddr = address
        .parse()
        .map_err(|_| format!("`{address}` is not an IP address"))?;
    let bits = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => bits,
        Some(prefix) => prefix
            .parse::<u8>()
            .ok()
            .filter(|prefix| *prefix <= bits)
            .ok_or_else(|| format!("the prefix length must be a number from 0 to {bits}"))?,
    };
    IpNet::new(address, prefix).map_err(|err| err.to_string())
}

/// The answer to [`Fetcher::post_json`]: its status and whole body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

struct Post<'a> {
    body: Bytes,
    bearer: Option<&'a str>,
}

/// Fetches URLs under a [`FetchPolicy`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    policy: FetchPolicy,
    /// Answers instead of the system resolver, so that tests can give a
    /// name any address without a DNS server.
    #[cfg(test)]
    hosts: std::collections::HashMap<String, Vec<IpAddr>>,
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Fetcher {
        Fetcher {
            policy,
            #[cfg(test)]
            hosts: Default::default(),
        }
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// The body of `url`, after any redirects, as a stream that fails with
    /// [`Error::TooLarge`] once it goes past `max_bytes` of the policy.
    pub async fn fetch(&self, url: &str) -> Result<BoxStream<'static, Result<Bytes>>> {
        self.fetch_within(url, self.policy.max_bytes).await
    }

    /// Fetches `url` into the store, under both the policy and the upload
    /// limits (the smaller size limit applies).
    pub async fn fetch_into(
        &self,
        store: &MediaStore,
        url: &str,
        limits: &UploadLimits,
    ) -> Result<Stored> {
        let max_bytes = self.policy.max_bytes.min(limits.max_bytes);
        let body = self.fetch_within(url, max_bytes).await?;
        store.put_stream(body, limits).await
    }

    async fn fetch_within(
        &self,
        url: &str,
        max_bytes: u64,
    ) -> Result<BoxStream<'static, Result<Bytes>>> {
        let deadline = Instant::now() + self.policy.timeout;
        let first = Url::parse(url).map_err(|err| Error::Fetch {
            url: url.to_string(),
            reason: format!("not a valid URL: {err}"),
        })?;
        let mut url = first.clone();
        let mut redirects = 0;
        loop {
            let response = self.send(&url, deadline, None).await?;
            let status = response.status();
            if is_redirect(status) {
                if redirects == self.policy.max_redirects {
                    return Err(Error::TooManyRedirects {
                        url: shown(&first),
                        limit: self.policy.max_redirects,
                    });
                }
                redirects += 1;
                url = next_location(&url, &response)?;
                continue;
            }
            if !status.is_success() {
                return Err(Error::HttpStatus {
                    url: shown(&url),
                    status: status.as_u16(),
                });
            }
            // Refuse early when the server says up front that it is too big.
            if response
                .content_length()
                .is_some_and(|length| length > max_bytes)
            {
                return Err(Error::TooLarge { limit: max_bytes });
            }
            return Ok(body(response, shown(&url), max_bytes, self.policy.timeout));
        }
    }

    /// POSTs `body` as JSON to `url` (with `bearer` as its
    /// `Authorization: Bearer` secret) under the same address rules as
    /// [`Fetcher::fetch`], and reads the answer whole, whatever its status,
    /// up to `max_bytes` of the policy. A 307 or 308 redirect to the same
    /// origin is followed (checked again); any other redirect is an error,
    /// so the secret never goes to another host.
    pub async fn post_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        json: impl Into<Bytes>,
    ) -> Result<Answer> {
        let deadline = Instant::now() + self.policy.timeout;
        let first = Url::parse(url).map_err(|err| Error::Fetch {
            url: url.to_string(),
            reason: format!("not a valid URL: {err}"),
        })?;
        let post = Post {
            body: json.into(),
            bearer,
        };
        let mut url = first.clone();
        let mut redirects = 0;
        loop {
            let response = self.send(&url, deadline, Some(&post)).await?;
            let status = response.status();
            if is_redirect(status) {
                let next = next_location(&url, &response)?;
                let kept = matches!(
                    status,
                    StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
                );
                if !kept || next.origin() != url.origin() {
                    return Err(Error::Fetch {
                        url: shown(&url),
                        reason: format!(
                            "the server redirected ({status}) to {}; set the final URL instead",
                            shown(&next)
                        ),
                    });
                }
                if redirects == self.policy.max_redirects {
                    return Err(Error::TooManyRedirects {
                        url: shown(&first),
                        limit: self.policy.max_redirects,
                    });
                }
                redirects += 1;
                url = next;
                continue;
            }
            let max_bytes = self.policy.max_bytes;
            if response
                .content_length()
                .is_some_and(|length| length > max_bytes)
            {
                return Err(Error::TooLarge { limit: max_bytes });
            }
            let mut chunks = body(response, shown(&url), max_bytes, self.policy.timeout);
            let mut bytes = Vec::new();
            while let Some(chunk) = futures::StreamExt::next(&mut chunks).await {
                bytes.extend_from_slice(&chunk?);
            }
            return Ok(Answer {
                status: status.as_u16(),
                body: Bytes::from(bytes),
            });
        }
    }

    /// One request, without following redirects, after checking the URL and
    /// every address of its host: a GET, or with `post` a JSON POST.
    async fn send(
        &self,
        url: &Url,
        deadline: Instant,
        post: Option<&Post<'_>>,
    ) -> Result<reqwest::Response> {
        let addresses = self.checked_addresses(url, deadline).await?;
        let port = url.port_or_known_default().unwrap_or(80);
        let fail = |reason: String| Error::Fetch {
            url: shown(url),
            reason,
        };
        let remaining = remaining(deadline).ok_or_else(|| self.timed_out(url))?;
        // A client per hop is what pins the checked addresses: its resolver
        // knows no other answer, for any name, so nothing is looked up again
        // between the check and the connection. Redirects are ours to follow,
        // and proxies are off because a proxy would resolve the host itself.
        let pinned: Vec<SocketAddr> = addresses
            .iter()
            .map(|address| SocketAddr::new(*address, port))
            .collect();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(Pinned(pinned)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(remaining)
            .build()
            .map_err(|err| {
                fail(format!(
                    "cannot set up the HTTP client: {}",
                    error_chain(&err)
                ))
            })?;
        let request = match post {
            None => client.get(url.clone()),
            Some(post) => {
                let request = client
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(reqwest::header::ACCEPT, "application/json")
                    .body(post.body.clone());
                match post.bearer {
                    Some(secret) => request.bearer_auth(secret),
                    None => request,
                }
            }
        };
        request.send().await.map_err(|err| {
            if err.is_timeout() {
                self.timed_out(url)
            } else {
                fail(error_chain(&err))
            }
        })
    }

    /// Checks that `url` may be fetched, without sending anything: its
    /// scheme, and every address its host resolves to.
    pub async fn check_url(&self, url: &str) -> Result<()> {
        let parsed = Url::parse(url).map_err(|err| Error::Fetch {
            url: url.to_string(),
            reason: format!("not a valid URL: {err}"),
        })?;
        self.checked_addresses(&parsed, Instant::now() + self.policy.timeout)
            .await
            .map(drop)
    }

    /// The addresses of `url`'s host, each public or allow-listed.
    async fn checked_addresses(&self, url: &Url, deadline: Instant) -> Result<Vec<IpAddr>> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Refused {
                url: shown(url),
                address: None,
                reason: format!(
                    "only http and https URLs can be fetched, not {}",
                    url.scheme()
                ),
            });
        }
        let fail = |reason: String| Error::Fetch {
            url: shown(url),
            reason,
        };
        let host = url
            .host()
            .ok_or_else(|| fail("the URL has no host".to_string()))?;
        let port = url.port_or_known_default().unwrap_or(80);
        let addresses = match &host {
            Host::Ipv4(address) => vec![IpAddr::V4(*address)],
            Host::Ipv6(address) => vec![IpAddr::V6(*address)],
            Host::Domain(name) => self.resolve(name, port, url, deadline).await?,
        };
        // Any bad answer refuses the host, not just that answer: otherwise a
        // name with one public and one private address could still be used
        // to probe the private one.
        for &address in &addresses {
            if let Some(reason) = address::special_purpose(address) {
                if !self.policy.allows(address) {
                    return Err(Error::Refused {
                        url: shown(url),
                        address: Some(address),
                        reason: reason.to_string(),
                    });
                }
            }
        }

        Ok(addresses)
    }

    async fn resolve(
        &self,
        name: &str,
        port: u16,
        url: &Url,
        deadline: Instant,
    ) -> Result<Vec<IpAddr>> {
        let fail = |reason: String| Error::Fetch {
            url: shown(url),
            reason,
        };
        // RFC 6761: names under .invalid never exist, and resolvers should
        // say so without asking DNS.
        let bare = name.trim_end_matches('.');
        if bare == "invalid" || bare.ends_with(".invalid") {
            return Err(fail(format!(
                "the host {name} does not exist (.invalid names never resolve)"
            )));
        }
        #[cfg(test)]
        if let Some(addresses) = self.hosts.get(bare) {
            return Ok(addresses.clone());
        }
        let remaining = remaining(deadline).ok_or_else(|| self.timed_out(url))?;
        let found = tokio::time::timeout(remaining, tokio::net::lookup_host((bare, port)))
            .await
            .map_err(|_| self.timed_out(url))?
            .map_err(|err| fail(format!("the host {name} cannot be resolved: {err}")))?;
        let mut addresses: Vec<IpAddr> = Vec::new();
        for address in found {
            if !addresses.contains(&address.ip()) {
                addresses.push(address.ip());
            }
        }
        if addresses.is_empty() {
            return Err(fail(format!("the host {name} has no addresses")));
        }
        Ok(addresses)
    }

    fn timed_out(&self, url: &Url) -> Error {
        Error::Fetch {
            url: shown(url),
            reason: format!("no complete answer within {:?}", self.policy.timeout),
        }
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// A resolver that answers every name with the addresses already checked.
struct Pinned(Vec<SocketAddr>);

impl reqwest::dns::Resolve for Pinned {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addresses: reqwest::dns::Addrs = Box::new(self.0.clone().into_iter());
        Box::pin(std::future::ready(Ok(addresses)))
    }
}

/// Where a redirect points, resolved against the URL that answered it.
fn next_location(url: &Url, response: &reqwest::Response) -> Result<Url> {
    let fail = |reason: String| Error::Fetch {
        url: shown(url),
        reason,
    };
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .ok_or_else(|| {
            fail(format!(
                "a {} redirect without a location",
                response.status()
            ))
        })?;
    let location = location
        .to_str()
        .map_err(|_| fail("the redirect location is not text".to_string()))?;
    url.join(location).map_err(|err| {
        fail(format!(
            "the redirect location `{location}` is not a URL: {err}"
        ))
    })
}

/// The response body, ending in [`Error::TooLarge`] as soon as it passes
/// `max_bytes` (whatever the server announced).
fn body(
    response: reqwest::Response,
    url: String,
    max_bytes: u64,
    timeout: Duration,
) -> BoxStream<'static, Result<Bytes>> {
    let chunks = futures::stream::try_unfold((response, 0u64), move |(mut response, seen)| {
        let url = url.clone();
        async move {
            let chunk = response.chunk().await.map_err(|err| Error::Fetch {
                reason: if err.is_timeout() {
                    format!("no complete answer within {timeout:?}")
                } else {
                    error_chain(&err)
                },
                url,
            })?;
            let Some(chunk) = chunk else {
                return Ok(None);
            };
            let seen = seen + chunk.len() as u64;
            if seen > max_bytes {
                return Err(Error::TooLarge { limit: max_bytes });
            }
            Ok(Some((chunk, (response, seen))))
        }
    });
    Box::pin(chunks)
}

fn remaining(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then_some(left)
}

/// A URL for messages: a password in it is hidden.
fn shown(url: &Url) -> String {
    if url.password().is_none() {
        return url.to_string();
    }
    let mut hidden = url.clone();
    let _ = hidden.set_password(Some("***"));
    hidden.to_string()
}
