//! Server rendering of pages while other portals start in the same process.

use crate::helpers::spawn_app;
use app::model::Role;
use reqwest::StatusCode;
use std::time::Duration;

/// Listing the routes switches resource loading off process-wide for a
/// moment (leptos issue #4773): a page whose data started loading in that
/// moment never finished. The routes are now listed once per process, so
/// building more routers (as every test does) leaves pages alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn building_another_router_never_stalls_a_page_being_rendered() {
    let app = spawn_app().await;
    app.add_staff("chartist", &[Role::Security]).await;
    let client = app.signed_in("chartist").await;
    let cfg = server::config::Config::default();
    for round in 0..20 {
        let state = app.state.clone();
        let cfg = cfg.clone();
        let builder = tokio::task::spawn_blocking(move || {
            for _ in 0..10 {
                let probe = server::health::Probe::new(&state, &cfg);
                drop(server::web::router(state.clone(), &cfg, probe));
            }
        });
        for path in ["/charts", "/mailflow", "/charts/report"] {
            let res = tokio::time::timeout(Duration::from_secs(30), async {
                let res = client.get(app.url(path)).send().await.unwrap();
                let status = res.status();
                (status, res.text().await.unwrap())
            })
            .await
            .unwrap_or_else(|_| panic!("round {round}: GET {path} stalled"));
            assert_eq!(res.0, StatusCode::OK, "round {round}: GET {path}");
        }
        builder.await.unwrap();
    }
}
