//! Draft files as content versions: uploaded through the API
//! (`multipart/form-data` on `POST /api/v1/content/{id}/versions`) and the
//! item page, checked by name, first bytes and size, stored under the data
//! directory, named by the convention, and served to the team (with `Range`)
//! and to the client's approval link (the current draft only). Refusals
//! leave nothing on disk; other agencies see none of it.

use crate::common;

use baton_core::clock::SystemClock;
use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use common::{browser, csrf_of};
use common::{Api, Resp};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const MP4_HEAD: &[u8] = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41";

/// A multipart body: text fields in order, then the file (if any).
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----baton-draft-boundary-x81Kq";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `POST /api/v1/content/{id}/versions` with a body of content type `ct`.
async fn send_multipart(
    api: &Api,
    t: &str,
    id: &str,
    ct: impl Into<String>,
    body: impl Into<reqwest::Body>,
) -> Resp {
    api.send(
        api.request(
            reqwest::Method::POST,
            &format!("/api/v1/content/{id}/versions"),
            t,
        )
        .header(CONTENT_TYPE, ct.into())
        .body(body),
    )
    .await
}

async fn upload(api: &Api, t: &str, id: &str, name: &str, bytes: &[u8], note: &str) -> Resp {
    let fields: Vec<(&str, &str)> = if note.is_empty() {
        vec![]
    } else {
        vec![("note", note)]
    };
    let (ct, body) = multipart(&fields, Some((name, bytes)));
    send_multipart(api, t, id, ct, body).await
}

async fn new_item(api: &Api, t: &str, client: &str, title: &str) -> String {
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": title, "channel": "instagram", "format": "reel", "campaign": "Spring Launch"}),
        )
        .await;
    r.expect(201, "create content");
    r.id()
}

/// Every stored file (`agency/client/name`, temporary ones too on the
/// local backend), from whichever file store the app uses.
async fn uploads(app: &TestApp) -> Vec<String> {
    app.state
        .config
        .files
        .list()
        .await
        .expect("list stored files")
}

#[tokio::test]
async fn api_uploads_a_draft_and_serves_it_back_by_its_convention_name() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = new_item(&api, t, &client, "Cover shot").await;

    let r = upload(&api, t, &id, "Cover shot (final).PNG", PNG, "First cut").await;
    r.expect(201, "upload");
    assert_eq!(r.body["n"], 1);
    assert_eq!(r.body["kind"], "file");
    assert_eq!(
        r.body["name"],
        "harbor-fitness_spring-launch_instagram_reel_v1"
    );
    assert_eq!(r.body["file_name"], "Cover_shot__final_.PNG");
    assert_eq!(r.body["content_type"], "image/png");
    assert_eq!(r.body["size_bytes"], PNG.len());
    assert_eq!(r.body["note"], "First cut");
    assert_eq!(r.body["url"], Value::Null);
    let sha = r.body["sha256"].as_str().expect("sha256");
    assert_eq!(sha.len(), 64);
    let file_url = format!("/api/v1/content/{id}/versions/1/file");
    assert_eq!(r.body["file_url"], file_url);

    // Stored once, under this agency's and client's directory, as sent.
    let stored = uploads(&app).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let dir = format!("{}/{client}/", app.agency.id);
    let name = stored[0]
        .strip_prefix(&dir)
        .unwrap_or_else(|| panic!("{stored:?} not under {dir}"));
    assert!(name.starts_with(&format!("{id}-")), "{name}");
    let kept = app
        .state
        .config
        .files
        .read(&app.agency.id, &client, name)
        .await
        .unwrap();
    assert_eq!(kept, PNG);

    let item = api.get(&format!("/api/v1/content/{id}"), t).await;
    item.expect(200, "item");
    assert_eq!(item.body["status"], "in_production");
    assert_eq!(item.body["versions"][0]["file_url"], file_url);
    assert_eq!(item.body["versions"][0]["sha256"], sha);

    let resp = api
        .http
        .get(app.url(&file_url))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"harbor-fitness_spring-launch_instagram_reel_v1.png\""
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);

    // A phone seeking in a video asks for a range.
    let resp = api
        .http
        .get(app.url(&file_url))
        .bearer_auth(t)
        .header("range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &PNG[..8]);

    // A link version has no file: 409, naming the link; an unknown version
    // is 404; so is junk.
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": "https://drive.example.com/v2.png"}),
    )
    .await
    .expect(201, "link version");
    let r = api
        .get(&format!("/api/v1/content/{id}/versions/2/file"), t)
        .await;
    r.problem(409, "link version");
    assert!(
        r.text.contains("https://drive.example.com/v2.png"),
        "{}",
        r.text
    );
    for path in [
        format!("/api/v1/content/{id}/versions/9/file"),
        format!("/api/v1/content/{id}/versions/x/file"),
        "/api/v1/content/cnt_nope/versions/1/file".to_string(),
    ] {
        api.get(&path, t).await.problem(404, &path);
    }
}

#[tokio::test]
async fn refused_drafts_say_why_and_leave_nothing_behind() {
    let app = TestApp::spawn_with_config(std::sync::Arc::new(SystemClock), |c| {
        c.draft_limit = 64 * 1024
    })
    .await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = new_item(&api, t, &client, "Reel").await;

    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "reel.png",
            b"<html><script>alert(1)</script></html>".to_vec(),
            422,
            "PNG",
        ),
        (
            "setup.exe",
            b"MZ\x90\0\x03\0\0\0".to_vec(),
            422,
            "not accepted",
        ),
        (
            "logo.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            422,
            "not accepted",
        ),
        ("empty.png", Vec::new(), 422, "empty"),
        ("short.mp4", b"\0\0".to_vec(), 422, "MP4"),
        (
            "big.mp4",
            [MP4_HEAD, &vec![0u8; 100 * 1024]].concat(),
            413,
            "",
        ),
    ];
    for (name, bytes, status, says) in cases {
        let r = upload(&api, t, &id, name, &bytes, "").await;
        r.problem(status, name);
        assert!(r.text.contains(says), "{name}: {}", r.text);
    }
    // No file part at all, only a note.
    let (ct, body) = multipart(&[("note", "forgot the file")], None);
    let r = send_multipart(&api, t, &id, ct, body).await;
    r.problem(422, "no file");
    assert!(r.text.contains("Choose a draft file"), "{}", r.text);
    // Not multipart at all, though it says so.
    let r = send_multipart(&api, t, &id, "multipart/form-data; boundary=zzz", "garbage").await;
    r.client_error("garbage multipart");
    // A field the upload does not take (a typo of `note`), after the file:
    // refused, and the file received before it is not kept.
    let (ct, mut body) = multipart(&[], Some(("a.png", PNG)));
    let end = body.len() - "------baton-draft-boundary-x81Kq--\r\n".len();
    body.truncate(end);
    body.extend_from_slice(
        b"------baton-draft-boundary-x81Kq\r\nContent-Disposition: form-data; name=\"notes\"\r\n\r\nlost?\r\n\
          ------baton-draft-boundary-x81Kq--\r\n",
    );
    let r = send_multipart(&api, t, &id, ct, body).await;
    r.problem(422, "unknown field");
    assert!(r.text.contains("notes"), "{}", r.text);
    // A retry key cannot replay an upload: said, not ignored.
    let (ct, body) = multipart(&[], Some(("a.png", PNG)));
    let r = api
        .send(
            api.request(
                reqwest::Method::POST,
                &format!("/api/v1/content/{id}/versions"),
                t,
            )
            .header(CONTENT_TYPE, ct)
            .header("idempotency-key", "k-1")
            .body(body),
        )
        .await;
    r.problem(422, "idempotency key on an upload");
    // JSON keeps the app's own body limit on this route.
    let huge = "x".repeat(2 * 1024 * 1024);
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": format!("https://example.com/{huge}")}),
    )
    .await
    .problem(413, "huge json");

    let stored = uploads(&app).await;
    assert!(stored.is_empty(), "{stored:?}");
    let item = api.get(&format!("/api/v1/content/{id}"), t).await;
    assert_eq!(item.body["versions"], json!([]));
    assert_eq!(item.body["status"], "brief");

    // In review: refused before the file is read.
    upload(&api, t, &id, "a.png", PNG, "")
        .await
        .expect(201, "v1");
    api.put(
        &format!("/api/v1/content/{id}/participants"),
        t,
        json!({"approvers": [app.agency.admin.id]}),
    )
    .await
    .expect(200, "approver");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    let r = upload(&api, t, &id, "b.png", PNG, "").await;
    r.problem(409, "upload while in review");
    assert!(r.text.contains("review round is open"), "{}", r.text);
    assert_eq!(uploads(&app).await.len(), 1);
    let leftovers: Vec<_> = uploads(&app)
        .await
        .into_iter()
        .filter(|p| p.rsplit('/').next().unwrap().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn other_agencies_and_read_tokens_cannot_touch_drafts() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = new_item(&api, t, &client, "Cover").await;
    upload(&api, t, &id, "cover.png", PNG, "")
        .await
        .expect(201, "upload");

    let rival = app.other_agency("admin@rival.test").await;
    api.get(
        &format!("/api/v1/content/{id}/versions/1/file"),
        &rival.token,
    )
    .await
    .problem(404, "rival download");
    upload(&api, &rival.token, &id, "x.png", PNG, "")
        .await
        .problem(404, "rival upload");

    let read = api.token(t, "read").await;
    upload(&api, &read, &id, "x.png", PNG, "")
        .await
        .problem(403, "read token upload");
    let resp = api
        .http
        .get(app.url(&format!("/api/v1/content/{id}/versions/1/file")))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "read token downloads");
    api.get(&format!("/api/v1/content/{id}/versions/1/file"), "")
        .await
        .problem(401, "no token");
    assert_eq!(uploads(&app).await.len(), 1);
}

/// A browser logged in as `email` and the CSRF token of its session.
async fn login(app: &TestApp, email: &str) -> (Client, String) {
    let c = browser();
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let resp = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", email),
            ("password", ADMIN_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login as {email}");
    let html = c
        .get(app.url("/content"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    (c, csrf)
}

async fn web_upload(
    c: &Client,
    app: &TestApp,
    id: &str,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
) -> (StatusCode, String, String) {
    let (ct, body) = multipart(fields, Some(file));
    let resp = c
        .post(app.url(&format!("/content/{id}/versions/upload")))
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let to = resp
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, to, resp.text().await.unwrap())
}

#[tokio::test]
async fn the_item_page_uploads_previews_and_downloads_drafts() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = new_item(&api, t, &client, "Cover").await;
    let (c, csrf) = login(&app, &app.agency.admin.email).await;

    let html = c
        .get(app.url(&format!("/content/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("enctype=\"multipart/form-data\""),
        "upload form"
    );
    assert!(html.contains("accept=\".png,.jpg,.jpeg,.gif,.webp,.mp4,.m4v,.mov,.webm,.pdf\""));
    assert!(html.contains("at most 200 MB"), "limit explained");

    // Without the form's token nothing is stored.
    let (status, _, _) = web_upload(&c, &app, &id, &[], ("a.png", PNG)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = web_upload(&c, &app, &id, &[("csrf", "wrong")], ("a.png", PNG)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(uploads(&app).await.is_empty());

    // A refused file: the page again, the reason at the versions, the note kept.
    let (status, _, html) = web_upload(
        &c,
        &app,
        &id,
        &[("csrf", &csrf), ("note", "Brighter <b>sky</b>")],
        ("cover.png", b"GIF89a\x01\0\x01\0"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("name says PNG, but its content is something else"),
        "{html}"
    );
    assert!(
        html.contains("Brighter &#60;b&#62;sky&#60;/b&#62;"),
        "note kept, escaped: {}",
        &html[html.find("Brighter").unwrap_or(0)..][..40]
    );
    assert!(uploads(&app).await.is_empty());

    let (status, to, _) = web_upload(
        &c,
        &app,
        &id,
        &[("csrf", &csrf), ("note", "Brighter sky")],
        ("cover.png", PNG),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        to.starts_with(&format!("/content/{id}?notice=version_added")),
        "{to}"
    );
    let html = c
        .get(app.url(&format!("/content/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let href = format!("/content/{id}/versions/1/file");
    assert!(
        html.contains(&format!("<img class=\"preview\" src=\"{href}\"")),
        "preview"
    );
    assert!(
        html.contains(&format!("{href}?download=1")),
        "download link"
    );
    assert!(html.contains("Brighter sky"));

    let resp = c.get(app.url(&href)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-disposition"],
        "inline; filename=\"harbor-fitness_spring-launch_instagram_reel_v1.png\""
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);
    let resp = c
        .get(app.url(&format!("{href}?download=1")))
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));

    // Logged out: the login page, not the file. Another agency: 404.
    let resp = browser().get(app.url(&href)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let rival = app.other_agency("admin@rival.test").await;
    let (rc, _) = login(&app, &rival.admin.email).await;
    let resp = rc.get(app.url(&href)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_client_sees_only_the_current_draft_file_on_the_approval_link() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = new_item(&api, t, &client, "Launch reel").await;
    api.put(
        &format!("/api/v1/content/{id}/participants"),
        t,
        json!({"approvers": ["client"]}),
    )
    .await
    .expect(200, "client approves");
    let video = [MP4_HEAD, &[7u8; 4096][..]].concat();
    upload(&api, t, &id, "launch.mp4", &video, "")
        .await
        .expect(201, "v1");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    let r = api
        .post(&format!("/api/v1/content/{id}/approval-link"), t, json!({}))
        .await;
    r.expect(201, "approval link");
    let url = r.body["url"].as_str().unwrap().to_string();
    let base = &url[url.find("/a/").unwrap()..];

    let c = browser();
    let resp = c.get(&url).send().await.unwrap();
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("media-src 'self'"), "{csp}");
    let html = resp.text().await.unwrap();
    let file = format!("{base}/versions/1/file");
    assert!(
        html.contains(&format!("<video class=\"preview\" src=\"{file}\"")),
        "{html}"
    );

    let resp = c
        .get(app.url(&file))
        .header("range", "bytes=4-11")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.headers()["content-type"], "video/mp4");
    assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
    assert!(resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"ftypisom");

    // The client asks for changes; the team uploads v2 and submits it.
    let resp = c
        .post(format!("{url}/decision"))
        .form(&[
            ("name", "Dana"),
            ("decision", "request_changes"),
            ("comment", "Shorter intro"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    upload(&api, t, &id, "launch-v2.mp4", &video, "Shorter intro")
        .await
        .expect(201, "v2");
    // v1 is no longer what the client is shown: not served under the link.
    for path in [
        file.clone(),
        format!("{base}/versions/3/file"),
        format!("{base}/versions/abc/file"),
        "/a/not-a-real-token-at-all-0000000000000000000/versions/1/file".to_string(),
    ] {
        let resp = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let resp = c
        .get(app.url(&format!("{base}/versions/2/file")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_draft_file_carries_its_caption() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = new_item(&api, t, &client, "Caption reel").await;
    let (ct, body) = multipart(
        &[
            ("note", "First cut"),
            ("caption", "Rise early.\nRun far. #run"),
        ],
        Some(("cover.png", PNG)),
    );
    let r = send_multipart(&api, t, &id, ct, body).await;
    r.expect(201, "upload with a caption");
    assert_eq!(r.body["caption"], "Rise early.\nRun far. #run");
    assert_eq!(r.body["note"], "First cut");
    let item = api.get(&format!("/api/v1/content/{id}"), t).await.body;
    assert_eq!(item["caption"], "Rise early.\nRun far. #run");
    // Without a caption field a file version keeps the item's caption.
    let v2 = upload(&api, t, &id, "cover-2.png", PNG, "").await;
    v2.expect(201, "v2");
    assert_eq!(v2.body["caption"], "Rise early.\nRun far. #run");
    // A refused caption stores no file and no version.
    let (ct, body) = multipart(
        &[("caption", &"é".repeat(5_001))],
        Some(("cover-3.png", PNG)),
    );
    send_multipart(&api, t, &id, ct, body)
        .await
        .problem(422, "caption too long");
    let item = api.get(&format!("/api/v1/content/{id}"), t).await.body;
    assert_eq!(item["current_version"], 2);
    app.shutdown().await;
}

#[tokio::test]
async fn draft_downloads_are_never_compressed() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = new_item(&api, t, &client, "Rate card").await;
    // A document that would shrink a lot if it were compressed.
    let mut pdf = b"%PDF-1.4\n".to_vec();
    for _ in 0..400 {
        pdf.extend_from_slice(b"BT /F1 12 Tf (Spring launch) Tj ET\n");
    }
    upload(&api, t, &id, "rate card.pdf", &pdf, "")
        .await
        .expect(201, "upload");
    let file_url = app.url(&format!("/api/v1/content/{id}/versions/1/file"));
    let get = |range: Option<&'static str>| {
        let mut rb = api
            .http
            .get(&file_url)
            .bearer_auth(t)
            .header("accept-encoding", "br, gzip");
        if let Some(r) = range {
            rb = rb.header("range", r);
        }
        rb.send()
    };
    let whole = get(None).await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert!(whole.headers().get("content-encoding").is_none());
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), pdf.as_slice());
    let part = get(Some("bytes=9-44")).await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert!(part.headers().get("content-encoding").is_none());
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 9-44/{}", pdf.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &pdf[9..45]);
    // A Range Baton cannot serve as asked is ignored: the whole file.
    for bad in [
        "bytes=44-9",
        "bytes=x-y",
        "lines=1-2",
        "bytes=0-1,5-6",
        "bytes=-",
    ] {
        let r = get(Some(bad)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{bad}");
        assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice(), "{bad}");
    }
    // A well-formed range past the end is not satisfiable.
    let r = get(Some("bytes=999999-")).await.unwrap();
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    // The item's JSON, on the other hand, is.
    let json = api
        .http
        .get(app.url(&format!("/api/v1/content/{id}")))
        .bearer_auth(t)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(json.headers()["content-encoding"], "gzip");
}

/// A script's upload without an extension (`curl -F file=@draft`) is known
/// by its first bytes and keeps its type's extension; bytes of no draft
/// type are still refused.
#[tokio::test]
async fn a_draft_without_an_extension_is_known_by_its_first_bytes() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = new_item(&api, t, &client, "Cover shot").await;
    let r = upload(&api, t, &id, "<script>", b"<script>alert(1)</script>", "").await;
    r.problem(422, "html without an extension");
    assert!(r.text.contains("not accepted"), "{}", r.text);
    let r = upload(&api, t, &id, "draft", PNG, "").await;
    r.expect(201, "png without an extension");
    assert_eq!(r.body["file_name"], "draft.png");
    assert_eq!(r.body["content_type"], "image/png");
    let file = reqwest::Client::new()
        .get(app.url(r.body["file_url"].as_str().unwrap()))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(file.headers()[CONTENT_TYPE], "image/png");
    app.shutdown().await;
}
