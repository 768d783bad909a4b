//! The clients of the load mix, each a task; see the parent module.

use super::record::{Answer, Expect, NO_ANSWER, Recorder, Verdict};
use super::{Mix, Outcome, PASSWORD, Plan, Target};
use crate::tools::policyd_bench as load;
use anyhow::{Result, bail};
use app::model::{BulkOutcome, DefenceState};
use app::server::defence::{Evidence, Recorded};
use mailflow::generate::{Generator, Shape};
use serde_json::Value;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Addresses two clients may both try to take, as a mailbox or an alias.
const RACE: Expect = Expect::MayRefuse(&[409, 422]);
/// A wrong password: refused, or locked out.
const WRONG_PASSWORD: Expect = Expect::Refuse(&[401, 429]);
/// A taken-over Dovecot hash, so that an import does not spend minutes hashing.
const HASH: &str =
    "{ARGON2ID}$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$Y2FuYWRhY2FuYWRhY2FuYWRhY2FuYWRhY2FuYWRh";

/// What every task shares.
struct Ctx {
    base: String,
    plan: Plan,
    mix: Mix,
    rec: Recorder,
    deadline: Instant,
    /// Set when the budgeted clients are done: the others stop too.
    stop: AtomicBool,
    /// Proposal targets this run stored, and those it blocked (asked about
    /// in policy requests).
    proposed: Mutex<Vec<String>>,
    blocked: Mutex<Vec<String>>,
    ingest_lines: AtomicU64,
}

impl Ctx {
    /// Whether a client that sent `n` requests of its `budget` goes on.
    fn go(&self, n: u64, budget: Option<u64>) -> bool {
        Instant::now() < self.deadline
            && match budget {
                Some(b) => n < b,
                None => !self.stop.load(Ordering::Relaxed),
            }
    }

    /// Whether the background clients (no budget of their own) go on.
    fn running(&self) -> bool {
        Instant::now() < self.deadline && !self.stop.load(Ordering::Relaxed)
    }

    /// Sleeps `d`, or less when the run ends first.
    async fn pause(&self, d: Duration) {
        let until = (Instant::now() + d).min(self.deadline);
        while Instant::now() < until && !self.stop.load(Ordering::Relaxed) {
            let left = until.saturating_duration_since(Instant::now());
            tokio::time::sleep(left.min(Duration::from_millis(200))).await;
        }
    }
}

/// An HTTP client of the portal with its own cookies (its session).
#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    base: String,
    /// Who it is, for the report and the audit comparison.
    who: String,
}

impl Http {
    fn new(base: &str, who: &str, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .build()
            .expect("a plain HTTP client builds");
        Self {
            client,
            base: base.trim_end_matches('/').to_string(),
            who: who.to_string(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let sent = Instant::now();
        let (status, body) = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                match res.text().await {
                    Ok(body) => (status, body),
                    Err(e) => (NO_ANSWER, format!("the body did not arrive: {e}")),
                }
            }
            Err(e) => (NO_ANSWER, format!("{e:#}")),
        };
        Answer {
            status,
            body,
            latency: sent.elapsed(),
        }
    }

    /// A server function call, as the WASM client sends it.
    async fn call(&self, path: &str, form: &[(String, String)]) -> Answer {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Accept", "application/json")
            .form(form);
        self.send(req).await
    }

    async fn sign_in(
        &self,
        ctx: &Ctx,
        kind: &'static str,
        password: &str,
        expect: Expect,
    ) -> Verdict {
        let form = [
            ("username".to_string(), self.who.clone()),
            ("password".to_string(), password.to_string()),
        ];
        let a = self.call("/api/session/login", &form).await;
        ctx.rec
            .answer(kind, &self.who, "POST /api/session/login", expect, &a)
    }
}

/// Sends the provisioning request `request` with `fields`; a success is
/// a change the audit log must show.
async fn provision(
    ctx: &Ctx,
    http: &Http,
    kind: &'static str,
    request: &str,
    fields: &[(&str, String)],
    expect: Expect,
) -> Verdict {
    let form: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (format!("request[{k}]"), v.clone()))
        .collect();
    let path = format!("/api/provision/{request}");
    let a = http.call(&path, &form).await;
    let target = fields
        .iter()
        .find(|(k, _)| *k == "address")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let verdict = ctx.rec.answer(
        kind,
        &http.who,
        &format!("POST {path} {target}"),
        expect,
        &a,
    );
    if verdict == Verdict::Success {
        ctx.rec
            .changed(&http.who, &format!("provision.{request}"), 1);
    }
    verdict
}

pub(super) async fn run(target: &Target, plan: &Plan, mix: &Mix) -> Result<Outcome> {
    if mix.staff == 0 {
        bail!("the mix needs at least one staff client");
    }
    let ctx = Arc::new(Ctx {
        base: target.base.clone(),
        plan: plan.clone(),
        mix: mix.clone(),
        rec: Recorder::new(),
        deadline: Instant::now() + mix.duration,
        stop: AtomicBool::new(false),
        proposed: Mutex::new(Vec::new()),
        blocked: Mutex::new(Vec::new()),
        ingest_lines: AtomicU64::new(0),
    });

    // Everyone signs in first: a client without a session has nothing to do.
    let timeout = Duration::from_secs(30);
    let mut signed_in = Vec::new();
    for who in plan.staff.iter().chain(&plan.security) {
        let http = Http::new(&ctx.base, who, timeout);
        let ok = http
            .sign_in(&ctx, "sign_in", PASSWORD, Expect::Success)
            .await
            == Verdict::Success;
        signed_in.push(ok.then_some(http));
    }
    let (staff, security) = signed_in.split_at(plan.staff.len());

    // Budgeted clients: the run is over when they are.
    let mut budgeted = Vec::new();
    for (i, http) in staff.iter().enumerate() {
        if let Some(http) = http.clone() {
            budgeted.push(tokio::spawn(staff_client(ctx.clone(), http, i)));
        }
    }
    for http in security.iter().flatten() {
        budgeted.push(tokio::spawn(security_client(ctx.clone(), http.clone())));
    }
    for who in &plan.intruders {
        budgeted.push(tokio::spawn(intruder(ctx.clone(), who.clone())));
    }
    if mix.import_rows > 0 {
        budgeted.push(tokio::spawn(importer(ctx.clone())));
    }
    if let Some(log) = &target.log {
        budgeted.push(tokio::spawn(ingest_writer(ctx.clone(), log.clone())));
    }

    // Background clients, until the others are done.
    let mut background = vec![
        tokio::spawn(sign_ins(ctx.clone())),
        tokio::spawn(proposer(ctx.clone(), target.db.clone())),
    ];
    if let Some(addr) = target.policyd {
        let per_connection =
            mix.policy_per_sec.max(1) as f64 / mix.policy_connections.max(1) as f64;
        for c in 0..mix.policy_connections {
            background.push(tokio::spawn(policy_client(
                ctx.clone(),
                addr,
                c,
                per_connection,
            )));
        }
    }
    if let Some(board) = &target.board {
        background.push(tokio::spawn(board_watch(ctx.clone(), board.clone())));
    }

    for task in budgeted {
        task.await?;
    }
    let finished = mix.budget.is_none() || Instant::now() < ctx.deadline;
    ctx.stop.store(true, Ordering::Relaxed);
    for task in background {
        task.await?;
    }
    let ingest_lines = ctx.ingest_lines.load(Ordering::Relaxed);
    if target.log.is_some() {
        ctx.rec.note(format!(
            "ingest: {ingest_lines} log lines appended at {} lines/s",
            mix.ingest_per_sec
        ));
    }
    if !finished {
        ctx.rec.note(format!(
            "the run was stopped after {} s, before every client had sent its requests",
            mix.duration.as_secs()
        ));
    }
    Ok(Outcome {
        report: ctx.rec.report(),
        finished,
        ingest_lines,
    })
}

/// A small, seeded PRNG (xorshift64*): repeatable choices, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// A support member at work. Each step sends one request; every tenth
/// round the same steps come back:
/// 0 create a mailbox, 1 an alias, 2 edit the mailbox, 3 race for a
/// contested address (even clients as a mailbox, odd ones as an alias),
/// 4 suspend the mailbox, 5 race for the small domain's last mailbox
/// slots, 6 reactivate, 7 edit the alias, 8 race for its last alias slots,
/// 9 search.
async fn staff_client(ctx: Arc<Ctx>, http: Http, i: usize) {
    let budget = ctx.mix.budget.map(|b| b.staff);
    let plan = &ctx.plan;
    let mut rng = Rng::new(ctx.mix.seed ^ ((i as u64 + 1) << 16));
    // The last mailbox and alias this client created, and whether the mailbox is suspended.
    let mut mailbox: Option<String> = None;
    let mut suspended = false;
    let mut alias: Option<String> = None;
    // Contested names per round: a few clients go for each.
    let contested = (ctx.mix.staff as u64 / 3).max(2);
    let external = format!("owner{i}@example.org");
    let mut n = 0u64;
    while ctx.go(n, budget) {
        let round = n / 10;
        match (n % 10, &mailbox, &alias) {
            (0, _, _) => {
                let address = format!("s{i}m{round}@{}", plan.shared_domain);
                let fields = [
                    ("address", address.clone()),
                    ("name", format!("Cliente {i} {round}")),
                ];
                if provision(
                    &ctx,
                    &http,
                    "mailbox_create",
                    "mailbox_create",
                    &fields,
                    Expect::Success,
                )
                .await
                    == Verdict::Success
                {
                    mailbox = Some(address);
                    suspended = false;
                }
            }
            (1, _, _) => {
                let address = format!("s{i}a{round}@{}", plan.shared_domain);
                let targets = mailbox.clone().unwrap_or_else(|| external.clone());
                let fields = [("address", address.clone()), ("targets", targets)];
                if provision(
                    &ctx,
                    &http,
                    "alias_create",
                    "alias_create",
                    &fields,
                    Expect::Success,
                )
                .await
                    == Verdict::Success
                {
                    alias = Some(address);
                }
            }
            (2, Some(m), _) => {
                let fields = [
                    ("address", m.clone()),
                    ("name", format!("Cliente {i} edited {n}")),
                    ("quota_mb", (512 + n % 4 * 128).to_string()),
                ];
                provision(
                    &ctx,
                    &http,
                    "mailbox_update",
                    "mailbox_update",
                    &fields,
                    Expect::Success,
                )
                .await;
            }
            (3, _, _) => {
                let address = format!("hot{round}x{}@{}", rng.below(contested), plan.shared_domain);
                if i.is_multiple_of(2) {
                    let fields = [("address", address)];
                    provision(&ctx, &http, "race_mailbox", "mailbox_create", &fields, RACE).await;
                } else {
                    let fields = [("address", address), ("targets", external.clone())];
                    provision(&ctx, &http, "race_alias", "alias_create", &fields, RACE).await;
                }
            }
            (4, Some(m), _) if !suspended => {
                let fields = [
                    ("address", m.clone()),
                    ("reason", "unpaid invoice".to_string()),
                ];
                if provision(
                    &ctx,
                    &http,
                    "mailbox_suspend",
                    "mailbox_suspend",
                    &fields,
                    Expect::Success,
                )
                .await
                    == Verdict::Success
                {
                    suspended = true;
                }
            }
            (5, _, _) => {
                let fields = [("address", format!("s{i}r{round}@{}", plan.race_domain))];
                provision(&ctx, &http, "slot_mailbox", "mailbox_create", &fields, RACE).await;
            }
            (6, Some(m), _) if suspended => {
                let fields = [("address", m.clone())];
                if provision(
                    &ctx,
                    &http,
                    "mailbox_reactivate",
                    "mailbox_reactivate",
                    &fields,
                    Expect::Success,
                )
                .await
                    == Verdict::Success
                {
                    suspended = false;
                }
            }
            (7, _, Some(a)) => {
                let fields = [
                    ("address", a.clone()),
                    ("targets", format!("{external} desk{n}@example.org")),
                    ("description", format!("edited {n}")),
                    ("active", "true".to_string()),
                ];
                provision(
                    &ctx,
                    &http,
                    "alias_update",
                    "alias_update",
                    &fields,
                    Expect::Success,
                )
                .await;
            }
            (8, _, _) => {
                let fields = [
                    ("address", format!("s{i}q{round}@{}", plan.race_domain)),
                    ("targets", external.clone()),
                ];
                provision(&ctx, &http, "slot_alias", "alias_create", &fields, RACE).await;
            }
            // Step 9, or a step whose mailbox or alias is missing: search.
            _ => {
                let form = [("q".to_string(), format!("s{i}"))];
                let a = http.call("/api/provision/mailboxes", &form).await;
                ctx.rec.answer(
                    "search",
                    &http.who,
                    "POST /api/provision/mailboxes",
                    Expect::Success,
                    &a,
                );
            }
        }
        n += 1;
    }
}

/// A security team member: reads the defence page, approves the first
/// pending proposals of this run (the other member often picks the same
/// ones) or lifts one of this run's blocks.
async fn security_client(ctx: Arc<Ctx>, http: Http) {
    let budget = ctx.mix.budget.map(|b| b.security);
    let mut n = 0u64;
    while ctx.go(n, budget) {
        let a = http.call("/api/defence/overview", &[]).await;
        n += 1;
        let verdict = ctx.rec.answer(
            "defence_overview",
            &http.who,
            "POST /api/defence/overview",
            Expect::Success,
            &a,
        );
        let state: DefenceState = match (verdict, serde_json::from_str(&a.body)) {
            (Verdict::Success, Ok(s)) => s,
            _ => {
                ctx.pause(ctx.mix.security_pause).await;
                continue;
            }
        };
        if !ctx.go(n, budget) {
            break;
        }
        let ours: Vec<String> = ctx.proposed.lock().map(|p| p.clone()).unwrap_or_default();
        let pending: Vec<String> = state
            .proposals
            .iter()
            .filter(|p| ours.contains(&p.target))
            .take(3)
            .map(|p| p.id.to_string())
            .collect();
        let active = state.blocks.iter().find(|b| {
            b.lifted_at.is_none() && b.expires_at > state.now && ours.contains(&b.target)
        });
        if !pending.is_empty() && (!n.is_multiple_of(3) || active.is_none()) {
            let form = [
                ("ids".to_string(), pending.join(",")),
                ("reason".to_string(), "soak: dictionary attack".to_string()),
            ];
            let a = http.call("/api/defence/approve", &form).await;
            let verdict = ctx.rec.answer(
                "defence_approve",
                &http.who,
                &format!("POST /api/defence/approve {}", pending.join(",")),
                Expect::MayRefuse(&[409]),
                &a,
            );
            if verdict == Verdict::Success {
                match serde_json::from_str::<BulkOutcome>(&a.body) {
                    Ok(done) => {
                        ctx.rec
                            .changed(&http.who, "block.approve", u64::from(done.done));
                        let approved: Vec<String> = state
                            .proposals
                            .iter()
                            .filter(|p| pending.contains(&p.id.to_string()))
                            .map(|p| p.target.clone())
                            .collect();
                        if let Ok(mut b) = ctx.blocked.lock() {
                            b.extend(approved);
                        }
                    }
                    Err(e) => ctx.rec.failure(
                        "defence_approve",
                        &http.who,
                        "POST /api/defence/approve",
                        "a success whose body is not a BulkOutcome",
                        &format!("{e}: {}", a.body),
                    ),
                }
            }
        } else if let Some(block) = active {
            let form = [
                ("id".to_string(), block.id.to_string()),
                ("reason".to_string(), "soak: false positive".to_string()),
            ];
            let a = http.call("/api/defence/lift", &form).await;
            let verdict = ctx.rec.answer(
                "defence_lift",
                &http.who,
                &format!("POST /api/defence/lift {}", block.id),
                Expect::MayRefuse(&[404, 409]),
                &a,
            );
            if verdict == Verdict::Success {
                ctx.rec.changed(&http.who, "block.lift", 1);
            }
        } else {
            ctx.pause(ctx.mix.security_pause).await;
            continue;
        }
        n += 1;
        ctx.pause(ctx.mix.security_pause).await;
    }
}

/// Stores a block proposal now and then, as detection does, each for a
/// new address of 198.18.0.0/15 (a range for benchmarks).
async fn proposer(ctx: Arc<Ctx>, db: sea_orm::DatabaseConnection) {
    let offset = u32::from_str_radix(&ctx.plan.run, 16).unwrap_or(0) % 60_000;
    let mut n = 0u32;
    while ctx.running() {
        let ip = std::net::Ipv4Addr::from(0xc612_0000 + (offset + n) % 0x2_0000);
        n += 1;
        let now = chrono::Utc::now().timestamp();
        let evidence = Evidence {
            subject: mailflow::SubjectKind::Ip,
            target: ip.to_string(),
            policy: "dictionary-attack".into(),
            reasons: [("unknown_user".to_string(), 40)].into(),
            first_seen: now - 60,
            last_seen: now,
            distinct_ips: 0,
            distinct_recipients: 40,
            samples: vec![format!(
                "NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 User unknown"
            )],
            block_minutes: 60,
            auto_approve: false,
            ..Default::default()
        };
        let started = Instant::now();
        match app::server::defence::record(&db, &evidence, now).await {
            Ok(recorded) => {
                ctx.rec.answer(
                    "detection_propose",
                    "detection",
                    &ip.to_string(),
                    Expect::Success,
                    &Answer::new(200, "", started.elapsed()),
                );
                if matches!(recorded, Recorded::Proposed(_))
                    && let Ok(mut p) = ctx.proposed.lock()
                {
                    p.push(ip.to_string());
                }
            }
            Err(e) => ctx.rec.failure(
                "detection_propose",
                "detection",
                &ip.to_string(),
                "storing a proposal failed",
                &e.to_string(),
            ),
        }
        ctx.pause(ctx.mix.propose_every).await;
    }
}

/// Wrong passwords for its own username, again and again.
async fn intruder(ctx: Arc<Ctx>, who: String) {
    let budget = ctx.mix.budget.map(|b| b.intruder);
    let mut n = 0u64;
    while ctx.go(n, budget) {
        let http = Http::new(&ctx.base, &who, Duration::from_secs(30));
        http.sign_in(&ctx, "sign_in_wrong", &format!("guess-{n}"), WRONG_PASSWORD)
            .await;
        n += 1;
        ctx.pause(ctx.mix.intruder_pause).await;
    }
}

/// Staff members signing in (with a fresh client) while all this goes on.
async fn sign_ins(ctx: Arc<Ctx>) {
    let mut n = 0usize;
    while ctx.running() {
        let who = &ctx.plan.staff[n % ctx.plan.staff.len()];
        n += 1;
        let http = Http::new(&ctx.base, who, Duration::from_secs(30));
        http.sign_in(&ctx, "sign_in", PASSWORD, Expect::Success)
            .await;
        ctx.pause(ctx.mix.sign_in_every).await;
    }
}

/// Imports CSV files of [`Mix::import_rows`] mailboxes through the REST
/// API: once, or again [`Mix::import_every`] after each one ends.
async fn importer(ctx: Arc<Ctx>) {
    let http = Http::new(&ctx.base, &ctx.plan.token_actor, Duration::from_secs(120));
    let mut k = 0u64;
    loop {
        import_once(&ctx, &http, k).await;
        k += 1;
        match ctx.mix.import_every {
            Some(every) if Instant::now() + every < ctx.deadline => {
                // Unbudgeted runs stop at the deadline; budgeted ones import once.
                ctx.pause(every).await;
                if !ctx.running() {
                    return;
                }
            }
            _ => return,
        }
    }
}

async fn import_once(ctx: &Ctx, http: &Http, k: u64) {
    let mut csv = String::from("kind,address,name,password\n");
    for j in 0..ctx.mix.import_rows {
        csv.push_str(&format!(
            "mailbox,i{k}n{j}@{},Imported {k} {j},\"{HASH}\"\n",
            ctx.plan.import_domain
        ));
    }
    let rows = ctx.mix.import_rows as u64;
    let req = http
        .client
        .post(format!("{}/api/v1/import?wait=10", http.base))
        .bearer_auth(&ctx.plan.token)
        .header("Content-Type", "text/csv")
        .body(csv);
    let what = format!("POST /api/v1/import ({rows} rows)");
    let a = http.send(req).await;
    let verdict = ctx
        .rec
        .answer("import", &http.who, &what, Expect::Success, &a);
    if verdict != Verdict::Success {
        return;
    }
    let mut body: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
    // A background job (202, or a job without its outcome yet): poll it.
    let started = Instant::now();
    while outcome_of(&body).is_none() {
        let Some(id) = body.get("id").and_then(Value::as_i64) else {
            let why = "neither an import outcome nor a job id";
            ctx.rec.failure("import", &http.who, &what, why, &a.body);
            return;
        };
        if body.get("status").and_then(Value::as_str) == Some("failed") {
            let why = "the import job failed";
            ctx.rec
                .failure("import", &http.who, &what, why, &body.to_string());
            return;
        }
        if started.elapsed() > Duration::from_secs(300) || Instant::now() >= ctx.deadline {
            let why = "the import did not finish in time";
            ctx.rec
                .failure("import", &http.who, &what, why, &body.to_string());
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let path = format!("/api/v1/import/{id}");
        let req = http
            .client
            .get(format!("{}{path}", http.base))
            .bearer_auth(&ctx.plan.token);
        let a = http.send(req).await;
        let verdict = ctx.rec.answer(
            "import_status",
            &http.who,
            &format!("GET {path}"),
            Expect::Success,
            &a,
        );
        if verdict == Verdict::Success {
            body = serde_json::from_str(&a.body).unwrap_or(Value::Null);
        }
    }
    let outcome = outcome_of(&body).cloned().unwrap_or_default();
    let row_list = outcome.get("rows").and_then(Value::as_array);
    let fine = |row: &&Value| row.get("error").is_none_or(Value::is_null);
    // A job says how many rows it wrote; a plain outcome writes every row or none.
    let written = match body.get("written").and_then(Value::as_u64) {
        Some(n) => n,
        None if outcome.get("applied").and_then(Value::as_bool) == Some(true) => {
            row_list.map_or(0, |r| r.iter().filter(fine).count() as u64)
        }
        None => 0,
    };
    ctx.rec
        .changed(&http.who, "provision.mailbox_create", written);
    ctx.rec
        .note(format!("import {k}: {written} of {rows} rows written"));
    if written != rows {
        let first_error = row_list
            .and_then(|r| {
                r.iter()
                    .find_map(|row| row.get("error").and_then(Value::as_str))
            })
            .unwrap_or("no row error given");
        let why = format!("the import wrote {written} of {rows} rows");
        ctx.rec
            .failure("import", &http.who, &what, &why, first_error);
    }
}

/// The `ImportOutcome` in an import's answer: the answer itself, or the
/// finished job's `outcome`.
fn outcome_of(body: &Value) -> Option<&Value> {
    if body.get("applied").is_some_and(Value::is_boolean) && body.get("rows").is_some() {
        return Some(body);
    }
    body.get("outcome").filter(|o| o.is_object())
}

/// Appends generated log lines at [`Mix::ingest_per_sec`].
async fn ingest_writer(ctx: Arc<Ctx>, log: std::path::PathBuf) {
    let mut generator = Generator::new(Shape {
        seed: ctx.mix.seed,
        start: ctx.plan.log_start,
        lines_per_day: 20_000_000,
        hosts: ctx.plan.hosts.clone(),
        rfc3339: true,
    });
    let limit = ctx.mix.ingest_lines.unwrap_or(u64::MAX);
    let started = Instant::now();
    let mut written = 0u64;
    let mut text = String::new();
    while written < limit && ctx.go(written, ctx.mix.ingest_lines) {
        let due =
            ((started.elapsed().as_secs_f64() * ctx.mix.ingest_per_sec as f64) as u64).min(limit);
        text.clear();
        for _ in written..due {
            generator.next_line(&mut text);
        }
        if let Err(e) = append(&log, &text) {
            ctx.rec.failure(
                "ingest",
                "log writer",
                &log.display().to_string(),
                "cannot append to the log",
                &e.to_string(),
            );
            return;
        }
        written = due;
        ctx.ingest_lines.store(written, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// One policy connection at `per_sec` requests a second; one request in
/// ten asks about an address this run blocked.
async fn policy_client(ctx: Arc<Ctx>, addr: std::net::SocketAddr, c: usize, per_sec: f64) {
    let who = format!("policy#{c}");
    let normal = load::request(&format!("203.0.113.{}", c % 250 + 1), "");
    let gap = Duration::from_secs_f64(1.0 / per_sec.max(0.1));
    let mut n = 0u64;
    'connect: while ctx.running() {
        let started = Instant::now();
        let stream = match TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(e) => {
                ctx.rec.answer(
                    "policy",
                    &who,
                    "connect",
                    Expect::Success,
                    &Answer::new(NO_ANSWER, e.to_string(), started.elapsed()),
                );
                ctx.pause(Duration::from_millis(500)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        while ctx.running() {
            let blocked = (n % 10 == 9)
                .then(|| ctx.blocked.lock().ok().and_then(|b| b.last().cloned()))
                .flatten();
            let (req, what) = match &blocked {
                Some(ip) => (load::request(ip, ""), format!("RCPT from blocked {ip}")),
                None => (normal.clone(), "RCPT".to_string()),
            };
            n += 1;
            let sent = Instant::now();
            let answer = async {
                write.write_all(req.as_bytes()).await?;
                let mut line = String::new();
                let mut blank = String::new();
                read.read_line(&mut line).await?;
                read.read_line(&mut blank).await?;
                std::io::Result::Ok((line, blank))
            };
            let (status, body) = match tokio::time::timeout(Duration::from_secs(10), answer).await {
                Ok(Ok((line, blank))) if line.starts_with("action=") && blank == "\n" => {
                    (200, line)
                }
                Ok(Ok((line, _))) if line.is_empty() => {
                    (NO_ANSWER, "the daemon closed the connection".into())
                }
                Ok(Ok((line, blank))) => (
                    NO_ANSWER,
                    format!("not a policy answer: {line:?} {blank:?}"),
                ),
                Ok(Err(e)) => (NO_ANSWER, e.to_string()),
                Err(_) => (NO_ANSWER, "no answer within 10 s".into()),
            };
            ctx.rec.answer(
                "policy",
                &who,
                &what,
                Expect::Success,
                &Answer::new(status, body, sent.elapsed()),
            );
            if status != 200 {
                ctx.pause(Duration::from_millis(500)).await;
                continue 'connect;
            }
            ctx.pause(gap.saturating_sub(sent.elapsed())).await;
        }
    }
}

/// Watches the ingest worker's status: an error it shows is a failure.
async fn board_watch(ctx: Arc<Ctx>, board: app::state::IngestBoard) {
    let mut seen: Vec<String> = Vec::new();
    while ctx.running() {
        let errors: Vec<(String, String)> = board
            .read()
            .map(|b| {
                b.iter()
                    .filter_map(|s| s.last_error.clone().map(|e| (s.name.clone(), e)))
                    .collect()
            })
            .unwrap_or_default();
        for (source, error) in errors {
            if !seen.contains(&error) {
                ctx.rec.failure(
                    "ingest",
                    "ingest worker",
                    &source,
                    "the worker stopped with an error",
                    &error,
                );
                seen.push(error);
            }
        }
        ctx.pause(Duration::from_millis(250)).await;
    }
}
