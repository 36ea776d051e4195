//! Fetch tests against a small HTTP server on 127.0.0.1. Nothing here
//! connects anywhere else: refused addresses are refused before connecting,
//! and names resolve through the fetcher's test table or not at all.

use super::*;
use std::io::Cursor;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type Routes = Arc<dyn Fn(&str, u16) -> Vec<u8> + Send + Sync>;

/// Serves `routes` on 127.0.0.1 and returns the port: one request per
/// connection, answered with whatever bytes the route gives.
async fn serve(routes: Routes) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0; 1024];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                let request = String::from_utf8_lossy(&request);
                let path = request.split(' ').nth(1).unwrap_or("/").to_string();
                let answer = routes(&path, port);
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    port
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::new(width, height);
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

fn ok(body: &[u8]) -> Vec<u8> {
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    answer
}

fn redirect(location: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn routes() -> Routes {
    Arc::new(|path, port| {
        if path == "/x.png" {
            ok(&png(7, 5))
        } else if path == "/hop" {
            redirect(&format!("http://127.0.0.1:{port}/x.png"))
        } else if path == "/to-127.0.0.2" {
            redirect(&format!("http://127.0.0.2:{port}/x.png"))
        } else if path == "/to-ipv6-loopback" {
            redirect(&format!("http://[::1]:{port}/x.png"))
        } else if path == "/to-metadata" {
            redirect("http://169.254.169.254/latest/meta-data/")
        } else if path == "/to-file" {
            redirect("file:///etc/passwd")
        } else if let Some(step) = path.strip_prefix("/loop/") {
            let step: u32 = step.parse().unwrap();
            redirect(&format!("/loop/{}", step + 1))
        } else if let Some(step) = path.strip_prefix("/chain/") {
            // Five redirects, then the image.
            let step: u32 = step.parse().unwrap();
            if step < 5 {
                redirect(&format!("/chain/{}", step + 1))
            } else {
                ok(&png(7, 5))
            }
        } else if path == "/big" {
            ok(&vec![b'x'; 100_000])
        } else if path == "/big-unannounced" {
            // No length: the body runs until the connection closes.
            let mut answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
            answer.extend_from_slice(&vec![b'x'; 100_000]);
            answer
        } else {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    })
}

fn allowing(networks: &[&str]) -> Fetcher {
    let networks: Vec<String> = networks.iter().map(|network| network.to_string()).collect();
    Fetcher::new(FetchPolicy {
        allow: FetchPolicy::parse_allow(&networks).unwrap(),
        ..FetchPolicy::default()
    })
}

fn media_store(dir: &tempfile::TempDir) -> MediaStore {
    MediaStore::open(&format!("file://{}", dir.path().display())).unwrap()
}

fn refused_address(result: Result<Stored>) -> IpAddr {
    match result {
        Err(Error::Refused {
            address: Some(address),
            ..
        }) => address,
        other => panic!("expected a refused address, got {other:?}"),
    }
}

#[tokio::test]
async fn refuses_loopback_by_default() {
    let port = serve(routes()).await;
    let dir = tempfile::tempdir().unwrap();
    let media = media_store(&dir);
    let fetcher = Fetcher::new(FetchPolicy::default());
    let limits = UploadLimits::default();

    let url = format!("http://127.0.0.1:{port}/x.png");
    let err = fetcher.fetch_into(&media, &url, &limits).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "refused to fetch `{url}`: 127.0.0.1 is a loopback address and is not allow-listed"
        )
    );

    let url = format!("http://localhost:{port}/x.png");
    let address = refused_address(fetcher.fetch_into(&media, &url, &limits).await);
    assert!(address.is_loopback(), "{address}");

    // Other spellings of 127.0.0.1 are the same address.
    for url in [
        format!("http://2130706433:{port}/x.png"),
        format!("http://0x7f.1:{port}/x.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/x.png"),
        format!("http://[::1]:{port}/x.png"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[fd00:ec2::254]/latest/meta-data/".to_string(),
        "http://10.0.0.1/x.png".to_string(),
    ] {
        refused_address(fetcher.fetch_into(&media, &url, &limits).await);
    }
    assert!(media.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn fetches_from_an_allowed_network() {
    let port = serve(routes()).await;
    let dir = tempfile::tempdir().unwrap();
    let media = media_store(&dir);
    let fetcher = allowing(&["127.0.0.0/8"]);
    let limits = UploadLimits::default();

    let stored = fetcher
        .fetch_into(&media, &format!("http://127.0.0.1:{port}/x.png"), &limits)
        .await
        .unwrap();
    assert_eq!(stored.kind, crate::MediaKind::Png);
    assert_eq!((stored.width, stored.height), (Some(7), Some(5)));
    assert_eq!(media.get(&stored.key).await.unwrap().as_ref(), png(7, 5));

    // An allowed redirect, and exactly the most redirects allowed.
    for path in ["/hop", "/chain/0"] {
        let again = fetcher
            .fetch_into(&media, &format!("http://127.0.0.1:{port}{path}"), &limits)
            .await
            .unwrap();
        assert_eq!(again.key, stored.key);
    }
    assert_eq!(media.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn checks_every_redirect() {
    let port = serve(routes()).await;
    let dir = tempfile::tempdir().unwrap();
    let media = media_store(&dir);
    let fetcher = allowing(&["127.0.0.1/32"]);
    let limits = UploadLimits::default();
    let from = |path: &str| format!("http://127.0.0.1:{port}{path}");

    let err = fetcher
        .fetch_into(&media, &from("/to-127.0.0.2"), &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Refused { url, address: Some(address), .. }
            if *url == format!("http://127.0.0.2:{port}/x.png") && address.to_string() == "127.0.0.2"),
        "{err:?}"
    );
    let address = refused_address(
        fetcher
            .fetch_into(&media, &from("/to-ipv6-loopback"), &limits)
            .await,
    );
    assert_eq!(address.to_string(), "::1");
    let err = fetcher
        .fetch_into(&media, &from("/to-metadata"), &limits)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("169.254.169.254 is a cloud metadata address and is not allow-listed"),
        "{err}"
    );
    let err = fetcher
        .fetch_into(&media, &from("/to-file"), &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Refused { address: None, .. }),
        "{err:?}"
    );

    let err = fetcher
        .fetch_into(&media, &from("/loop/0"), &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TooManyRedirects { url, limit: 5 } if *url == from("/loop/0")),
        "{err:?}"
    );
    assert!(media.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn caps_the_body() {
    let port = serve(routes()).await;
    let dir = tempfile::tempdir().unwrap();
    let media = media_store(&dir);
    let fetcher = Fetcher::new(FetchPolicy {
        max_bytes: 1000,
        ..allowing(&["127.0.0.1"]).policy().clone()
    });
    for path in ["/big", "/big-unannounced"] {
        let url = format!("http://127.0.0.1:{port}{path}");
        let err = fetcher
            .fetch_into(&media, &url, &UploadLimits::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { limit: 1000 }),
            "{path}: {err:?}"
        );
        // The stream on its own stops at the limit too.
        let mut body = fetcher.fetch(&url).await.map(|_| ()).err();
        if body.is_none() {
            let mut stream = fetcher.fetch(&url).await.unwrap();
            while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
                if let Err(err) = chunk {
                    body = Some(err);
                    break;
                }
            }
        }
        assert!(
            matches!(body, Some(Error::TooLarge { limit: 1000 })),
            "{body:?}"
        );
    }
    // The upload limit applies as well when it is the smaller one.
    let err = allowing(&["127.0.0.1"])
        .fetch_into(
            &media,
            &format!("http://127.0.0.1:{port}/big"),
            &UploadLimits {
                max_bytes: 500,
                ..UploadLimits::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 500 }), "{err:?}");
    assert!(media.list().await.unwrap().is_empty());
    assert_eq!(std::fs::read_dir(&media.spool_dir).unwrap().count(), 0);
}

#[tokio::test]
async fn refuses_other_schemes_and_reports_failures() {
    let port = serve(routes()).await;
    let dir = tempfile::tempdir().unwrap();
    let media = media_store(&dir);
    let fetcher = allowing(&["127.0.0.1"]);
    let limits = UploadLimits::default();

    for url in ["ftp://127.0.0.1/x.png", "file:///etc/passwd"] {
        let err = fetcher.fetch_into(&media, url, &limits).await.unwrap_err();
        assert!(
            matches!(&err, Error::Refused { address: None, reason, .. }
                if reason.starts_with("only http and https URLs can be fetched")),
            "{err:?}"
        );
    }

    let err = fetcher
        .fetch_into(&media, "http://media.example.invalid/x.png", &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Fetch { reason, .. } if reason.contains("does not exist")),
        "{err:?}"
    );
    let err = fetcher
        .fetch_into(&media, "not a url", &limits)
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Fetch { .. }), "{err:?}");

    let err = fetcher
        .fetch_into(&media, &format!("http://127.0.0.1:{port}/missing"), &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 404, .. }),
        "{err:?}"
    );

    // A password in the URL stays out of messages.
    let err = fetcher
        .fetch_into(&media, "http://user:secret@10.0.0.1/x.png", &limits)
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[tokio::test]
async fn connects_only_to_the_checked_addresses() {
    let port = serve(routes()).await;
    let dir = tempfile::tempdir().unwrap();
    let media = media_store(&dir);
    let mut fetcher = allowing(&["127.0.0.1/32"]);
    // No resolver knows these names: a fetch that works went to the
    // addresses that were checked, which is what pinning means.
    fetcher
        .hosts
        .insert("media.test".to_string(), vec!["127.0.0.1".parse().unwrap()]);
    fetcher.hosts.insert(
        "mixed.test".to_string(),
        vec![
            "93.184.216.34".parse().unwrap(),
            "10.0.0.1".parse().unwrap(),
        ],
    );
    let limits = UploadLimits::default();

    let stored = fetcher
        .fetch_into(&media, &format!("http://media.test:{port}/x.png"), &limits)
        .await
        .unwrap();
    assert_eq!((stored.width, stored.height), (Some(7), Some(5)));

    // One private answer among public ones refuses the host.
    let address = refused_address(
        fetcher
            .fetch_into(&media, &format!("http://mixed.test:{port}/x.png"), &limits)
            .await,
    );
    assert_eq!(address.to_string(), "10.0.0.1");
}

#[tokio::test]
async fn gives_up_after_the_timeout() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let fetcher = Fetcher::new(FetchPolicy {
        timeout: Duration::from_millis(300),
        ..allowing(&["127.0.0.1"]).policy().clone()
    });
    let started = std::time::Instant::now();
    let err = fetcher
        .fetch(&format!("http://127.0.0.1:{port}/slow"))
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Fetch { reason, .. } if reason.contains("no complete answer")),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn parses_allow_lists() {
    let parsed = FetchPolicy::parse_allow(&[
        "10.0.0.0/8".to_string(),
        " 127.0.0.1 ".to_string(),
        "fd00::/8".to_string(),
    ])
    .unwrap();
    let shown: Vec<String> = parsed.iter().map(|network| network.to_string()).collect();
    assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32", "fd00::/8"]);

    for (entry, reason) in [
        (
            "10.0.0.0/33",
            "the prefix length must be a number from 0 to 32",
        ),
        (
            "fd00::/129",
            "the prefix length must be a number from 0 to 128",
        ),
        (
            "10.0.0.0/",
            "the prefix length must be a number from 0 to 32",
        ),
        ("intranet/8", "`intranet` is not an IP address"),
        ("", "`` is not an IP address"),
    ] {
        let err = FetchPolicy::parse_allow(&[entry.to_string()]).unwrap_err();
        assert!(
            matches!(&err, Error::BadCidr { entry: found, reason: why } if found == entry && why == reason),
            "{entry}: {err:?}"
        );
    }
}

fn post_routes() -> Routes {
    Arc::new(|path, port| {
        match path {
        "/v1/chat/completions" => ok(br#"{"choices":[{"message":{"role":"assistant","content":"hi"}}]}"#),
        "/v1/failing" => {
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops"
                .to_vec()
        }
        "/v1/moved" => format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{port}/v1/chat/completions\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes(),
        "/v1/elsewhere" => format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://localhost:{port}/v1/chat/completions\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes(),
        "/v1/see-other" => redirect("/v1/chat/completions"),
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    }
    })
}

#[tokio::test]
async fn posts_refuse_loopback_unless_allowed_and_keep_their_answer() {
    let port = serve(post_routes()).await;
    let body = Bytes::from_static(b"{}");
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let err = Fetcher::new(FetchPolicy::default())
        .post_json(&url, Some("sk-secret"), body.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused { .. }), "{err}");
    assert!(!err.to_string().contains("sk-secret"));

    let fetcher = allowing(&["127.0.0.1"]);
    let answer = fetcher
        .post_json(&url, Some("sk-secret"), body.clone())
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.body.starts_with(b"{\"choices\""));

    let failing = format!("http://127.0.0.1:{port}/v1/failing");
    let answer = fetcher
        .post_json(&failing, None, body.clone())
        .await
        .unwrap();
    assert_eq!((answer.status, &answer.body[..]), (500, &b"oops"[..]));

    // A 307 on the same origin is followed with the body; a redirect to
    // another origin, or one that turns the POST into a GET, is not.
    let moved = format!("http://127.0.0.1:{port}/v1/moved");
    let answer = fetcher
        .post_json(&moved, Some("k"), body.clone())
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    for path in ["/v1/elsewhere", "/v1/see-other"] {
        let url = format!("http://127.0.0.1:{port}{path}");
        let err = fetcher
            .post_json(&url, Some("k"), body.clone())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("set the final URL"), "{err}");
    }
}
