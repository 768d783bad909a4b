import { expect, test } from "@playwright/test";
import { appendFileSync } from "node:fs";
import { signInPtBr } from "./fixtures/pt_br";
import { hydrated } from "./fixtures/session";

// The security team works in Portuguese (the browser asks for pt-BR).
test.use({ locale: "pt-BR" });

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

/** `Dec  2 09:30:11`: how syslog writes the UTC instant `d`. */
function syslogTime(d: Date): string {
  const day = String(d.getUTCDate()).padStart(2, " ");
  return `${MONTHS[d.getUTCMonth()]} ${day} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** `02/12/2026 06:30`: the instant `d` as the portal shows it in São Paulo (UTC-3 all year). */
function saoPaulo(d: Date): string {
  const l = new Date(d.getTime() - 3 * 3600_000);
  return `${two(l.getUTCDate())}/${two(l.getUTCMonth() + 1)}/${l.getUTCFullYear()} ${two(l.getUTCHours())}:${two(l.getUTCMinutes())}`;
}

test("um analista de segurança vê as propostas em português, no horário local, e aprova uma", async ({ page }) => {
  test.setTimeout(90_000);
  // A dictionary attack reaches the live log: 40 unknown recipients from one
  // IP within a minute (the policy proposes from 30 in 10 minutes).
  const ip = "203.0.113.88";
  const first = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const lines = [];
  for (let i = 0; i < 40; i++) {
    const at = syslogTime(new Date(first.getTime() + i * 1000));
    lines.push(
      `${at} mx1 postfix/smtpd[700]: NOQUEUE: reject: RCPT from unknown[${ip}]: 550 5.1.1 <pt${i}@example.com.br>: ` +
        `Recipient address rejected: User unknown in virtual mailbox table; from=<a@spam.example> to=<pt${i}@example.com.br> proto=ESMTP helo=<x>`,
    );
  }
  appendFileSync(process.env.E2E_LIVE_LOG!, lines.join("\n") + "\n");

  await signInPtBr(page, "e2e-security");
  await page.getByRole("navigation", { name: "Seções" }).getByRole("link", { name: "MailFlow", exact: true }).click();
  await expect(page).toHaveURL(/\/mailflow$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Defesa MailFlow");
  await expect(page.getByRole("heading", { name: /Bloqueios propostos/ })).toBeVisible();

  // The page refreshes itself: the proposal appears, in Portuguese.
  const proposal = page.locator(`table.proposals tbody tr[data-target='${ip}']`);
  await expect(proposal).toBeVisible({ timeout: 45_000 });
  await expect(proposal).toContainText("dictionary-attack");
  await expect(proposal).toContainText(/\d+ rejeitadas por destinatário inexistente/);
  // When the attack started, in São Paulo time, and in UTC on hover.
  const started = proposal.locator("td.seen time").first();
  await expect(proposal.locator("td.seen")).toContainText("Início");
  await expect(started).toHaveText(saoPaulo(first));
  await expect(started).toHaveAttribute("title", `${first.toISOString().slice(0, 10)} ${first.toISOString().slice(11, 19)} UTC`);

  // Its evidence, in Portuguese.
  await proposal.getByRole("button", { name: "Mostrar evidências" }).click();
  const evidence = page.locator("tr.evidence");
  await expect(evidence).toContainText("Linhas de log");
  await expect(evidence).toContainText("Histórico");
  await proposal.getByRole("button", { name: "Ocultar evidências" }).click();

  // Approve it with a reason.
  const approve = page.getByRole("button", { name: "Aprovar selecionadas" });
  await expect(approve).toBeDisabled();
  await proposal.getByRole("checkbox").check();
  await page.locator("form.bulk-form").first().getByLabel("Motivo da aprovação").fill("ataque de dicionário aos nossos domínios");
  await approve.click();
  await expect(page.getByRole("status")).toHaveText("Aprovadas: 1.");
  await expect(proposal).toHaveCount(0);

  // The block in force: why, how long is left, and how to lift it.
  const block = page.locator(`table.blocks tbody tr[data-target='${ip}']`);
  await expect(block).toContainText("e2e-security");
  await expect(block).toContainText("ataque de dicionário aos nossos domínios");
  await expect(block).toContainText(/\(faltam \d+ h\)|\(faltam \d+ dias?\)/);
  await expect(block.getByRole("button", { name: "Retirar bloqueio" })).toBeVisible();
  await expect(block.getByRole("button", { name: "Prorrogar" })).toBeVisible();
  // Nothing of the page is left in English.
  await expect(page.locator("body")).not.toContainText(/Proposed blocks|Approve selected|Show evidence|left\)/);
});
