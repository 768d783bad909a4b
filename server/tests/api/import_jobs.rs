//! The CSV import as a background job: hashing outside the write
//! transaction and short chunks keep sign-ins prompt during a big import,
//! progress is stored and answered at `GET /api/v1/import/{id}`, a job cut
//! off by a restart reads as failed, and the page's multipart upload takes
//! files up to 20 MB (signed in, not cross-site) with a clear 413 above.

use crate::helpers::{PASSWORD, TestApp};
use crate::provision::{accepted, app};
use crate::support::{get_with_token, issue_token};
use app::model::Role;
use app::provision::{ImportJob, ImportOutcome};
use app::server::entities::{import_job, mailbox};
use reqwest::{Client, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A support token for a day, as the CSV import scripts use.
pub async fn support_token(app: &TestApp, boss: &Client) -> String {
    issue_token(
        app,
        boss,
        &[("name", "crm"), ("role", "support"), ("days", "1")],
    )
    .await
}

#[tokio::test]
async fn a_large_import_runs_in_the_background_while_staff_sign_in() {
    let (app, boss, _) = app().await;
    accepted(
        &app,
        &boss,
        "domain_create",
        &[("name", "massa.com.br"), ("default_quota_mb", "1024")],
    )
    .await;
    let token = support_token(&app, &boss).await;
    let mut csv = String::from("kind,address,name,password\n");
    for i in 0..600 {
        csv.push_str(&format!(
            "mailbox,cliente{i:04}@massa.com.br,Cliente {i},\n"
        ));
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    // wait=0: answer at once with the running job.
    let res = http
        .post(app.url("/api/v1/import?wait=0"))
        .bearer_auth(&token)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let job: ImportJob = res.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/import/{}", job.id));
    assert_eq!((job.total, job.status.as_str()), (600, "running"));

    // Meanwhile: staff sign in promptly, and the job moves.
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut seen_in_between = false;
    let mut sign_ins = Vec::new();
    let job = loop {
        assert!(Instant::now() < deadline, "the import never ended");
        let started = Instant::now();
        let status = app.login_status("boss", PASSWORD).await;
        sign_ins.push((status, started.elapsed()));
        let job: ImportJob = get_with_token(&http, &app, &token, &location)
            .await
            .json()
            .await
            .unwrap();
        if !job.running() {
            break job;
        }
        seen_in_between |= job.done > 0 && job.done < job.total;
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (status, took) in &sign_ins {
        assert_eq!(*status, StatusCode::OK, "{sign_ins:?}");
        assert!(*took < Duration::from_secs(2), "a sign-in waited {took:?}");
    }
    assert!(seen_in_between, "progress between 0 and 600 was reported");
    assert_eq!(job.status.as_str(), "done", "{:?}", job.message);
    assert_eq!((job.done, job.written, job.errors), (600, 600, 0));
    let outcome = job.outcome.expect("every row's result");
    assert!(outcome.applied);
    assert_eq!(outcome.rows.len(), 600);
    assert!(
        outcome.rows.iter().all(|r| r.secret.is_some()),
        "the generated passwords, this once"
    );
    let again: ImportJob = get_with_token(&http, &app, &token, &location)
        .await
        .json()
        .await
        .unwrap();
    let again = again.outcome.unwrap();
    assert!(again.rows.iter().all(|r| r.secret.is_none()), "only once");
    let stored = mailbox::Entity::find()
        .filter(mailbox::Column::Address.like("%@massa.com.br"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, 600);
}

#[tokio::test]
async fn a_job_cut_off_by_a_restart_reads_as_failed() {
    let (app, _, ana) = app().await;
    let long_ago = chrono::Utc::now() - chrono::TimeDelta::minutes(10);
    let job = import_job::ActiveModel {
        nonce: Set("0123456789abcdef0123456789abcdef".into()),
        staff_id: Set(None),
        started_by: Set("ana".into()),
        dry_run: Set(false),
        status: Set(app::provision::ImportStatus::Running),
        total: Set(1000),
        done: Set(250),
        errors: Set(0),
        applied: Set(250),
        message: Set(None),
        result: Set(None),
        created_at: Set(long_ago),
        updated_at: Set(long_ago),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();

    let id = job.id.to_string();
    let res = app
        .call(&ana, "/api/provision/import_status", &[("id", id.as_str())])
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let job: ImportJob = res.json().await.unwrap();
    assert_eq!(job.status.as_str(), "failed");
    assert!(job.message.unwrap().starts_with("Interrompida"));
    assert_eq!((job.done, job.written), (250, 250), "how far it got");
}

/// A `multipart/form-data` body as a browser's `FormData` sends it.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----carteiro-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads `csv` as the page does: a preview, or an import naming the
/// `fingerprint` of its preview.
pub async fn upload(
    app: &TestApp,
    client: &Client,
    csv: &[u8],
    dry_run: bool,
    fingerprint: &str,
) -> reqwest::Response {
    let dry = if dry_run { "true" } else { "false" };
    let (content_type, body) = multipart(&[
        ("file", Some("mailboxes.csv"), csv),
        ("csv", None, b""),
        ("fingerprint", None, fingerprint.as_bytes()),
        ("dry_run", None, dry.as_bytes()),
    ]);
    client
        .post(app.url("/api/provision/import_upload"))
        .header("Content-Type", content_type)
        .header("Accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_page_uploads_its_file_as_multipart_up_to_20_mb() {
    let (app, _, ana) = app().await;
    let csv = b"kind,address,name\nmailbox,maria@exemplo.com.br,Maria\n";

    // Signed in as support: the job, here done at once.
    let res = upload(&app, &ana, csv, true, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let job: ImportJob = res.json().await.unwrap();
    let fingerprint = job.fingerprint.clone().unwrap();
    let outcome: ImportOutcome = job.outcome.expect("a one-row preview ends at once");
    assert_eq!(
        (outcome.dry_run, outcome.rows.len(), outcome.errors()),
        (true, 1, 0)
    );
    let res = upload(&app, &ana, csv, false, &fingerprint).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<ImportJob>().await.unwrap().written, 1);

    // Past the 2 MB of a form-encoded server function: it reaches the
    // importer (which reports the bad header).
    let big = format!(
        "kind,address,colour\n{}",
        "mailbox,x@exemplo.com.br,blue\n".repeat(100_000)
    );
    assert!(big.len() > 3_000_000);
    let res = upload(&app, &ana, big.as_bytes(), true, "").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    assert!(err.to_string().contains("coluna desconhecida"), "{err}");

    // Over 20 MB: 413 with a message for the page.
    let huge = vec![b'a'; 21 * 1024 * 1024];
    let res = upload(&app, &ana, &huge, true, "").await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let err: Value = res.json().await.unwrap();
    assert!(err.to_string().contains("mais de 20 MB"), "{err}");

    // Not signed in, signed in without the role, or sent from another site.
    let res = upload(&app, &app.client(), csv, true, "").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.add_staff("gerente", &[Role::Manager]).await;
    let manager = app.signed_in("gerente").await;
    assert_eq!(
        upload(&app, &manager, csv, true, "").await.status(),
        StatusCode::FORBIDDEN
    );
    let (content_type, body) = multipart(&[("file", Some("a.csv"), csv)]);
    let res = ana
        .post(app.url("/api/provision/import_upload"))
        .header("Content-Type", content_type)
        .header("Sec-Fetch-Site", "cross-site")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        mailbox::Entity::find().count(&app.state.db).await.unwrap(),
        1,
        "only the one real import wrote"
    );
}
