//! The demo's defence story (issue 17 item 10): on a new database the
//! demo seeding (`carteiro serve --demo`) imports a log whose last hours
//! hold a dictionary attack, a SASL brute force from one IP, a compromised
//! account and a distributed SASL brute force, and MailFlow has a pending
//! proposal for each, fresh (its first event within the last hours).

use crate::helpers::database_at;
use app::server::entities::defence_proposal::{self, ProposalStatus};
use sea_orm::{DatabaseConnection, EntityTrait};

/// The demo seeded into a new database: its pending proposals as
/// (subject, target, policy, first_seen).
async fn seeded(
    dir: &tempfile::TempDir,
) -> (DatabaseConnection, Vec<(String, String, String, i64)>) {
    let (url, db) = database_at(dir).await;
    let cfg = crate::common::test_config_on(url);
    assert!(
        server::tools::demo::seed_provisioning(&db, &cfg)
            .await
            .unwrap()
    );
    assert!(server::tools::demo::seed(&db, &cfg).await.unwrap() > 0);
    let proposals = defence_proposal::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.status == ProposalStatus::Pending)
        .map(|p| (p.subject, p.target, p.policy, p.first_seen))
        .collect();
    (db, proposals)
}

fn find<'a>(
    proposals: &'a [(String, String, String, i64)],
    subject: &str,
    target: &str,
) -> Option<&'a (String, String, String, i64)> {
    proposals
        .iter()
        .find(|(s, t, _, _)| s == subject && t == target)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_shows_each_attack_as_a_fresh_proposal() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, proposals) = seeded(&dir).await;
    let now = chrono::Utc::now().timestamp();
    for (subject, target, policy) in [
        ("ip", "185.220.101.47", "dictionary-attack"),
        ("ip", "193.32.162.80", "sasl-brute-force"),
        ("account", "bruno42@cliente.com.br", "compromised-many-ips"),
    ] {
        let Some((_, _, fired, first_seen)) = find(&proposals, subject, target) else {
            panic!("no proposal for {subject} {target}: {proposals:?}");
        };
        assert_eq!(fired, policy, "{target}");
        assert!(
            (now - 7 * 3600..now).contains(first_seen),
            "{target} started {}s ago",
            now - first_seen
        );
    }
    // Each attacker of the distributed brute force stays under the per-IP
    // threshold: none of its IPs is proposed on its own.
    assert!(
        !proposals.iter().any(|(_, t, _, _)| !t.contains('/')
            && ["45.135.232.", "80.94.95.", "141.98.11."]
                .iter()
                .any(|n| t.starts_with(n))),
        "{proposals:?}"
    );
}

/// The distributed brute force (1,040 failures from 160 IPs against
/// ana17@cliente.com.br) is caught by the per-account and per-/24
/// policies, and its SASL failures, far above the demo's usual hours,
/// raise an alert on the MailFlow page.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_shows_the_distributed_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let (db, proposals) = seeded(&dir).await;
    assert!(
        find(&proposals, "account", "ana17@cliente.com.br").is_some(),
        "{proposals:?}"
    );
    assert!(
        proposals.iter().any(
            |(_, t, _, _)| ["45.135.232.0/24", "80.94.95.0/24", "141.98.11.0/24"]
                .contains(&t.as_str())
        ),
        "no /24 proposed: {proposals:?}"
    );
    let alerts = app::server::entities::defence_alert::Entity::find()
        .all(&db)
        .await
        .unwrap();
    assert!(
        alerts.iter().any(|a| a.kind == "sasl_failures"),
        "no SASL alert: {alerts:?}"
    );
}
