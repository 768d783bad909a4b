import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { signInPtBr } from "./fixtures/pt_br";
import { hydrated } from "./fixtures/session";

// The README's screenshots (docs/screenshots/), in pt-BR, of the data
// .ci/e2e.sh seeds (imported logs, the demo domain). `make screenshots` runs
// this file with SCREENSHOTS=1; without it the file is skipped, so the normal
// suite never rewrites committed images.
test.skip(!process.env.SCREENSHOTS, "set SCREENSHOTS=1 (make screenshots) to rewrite docs/screenshots/");
test.use({ locale: "pt-BR" });

const out = join(__dirname, "..", "..", "docs", "screenshots");

/** A CSV as Excel in Portuguese saves it: BOM, `;`, `sim`/`não`, one bad row. */
const csv = Buffer.concat([
  Buffer.from([0xef, 0xbb, 0xbf]),
  Buffer.from(
    "tipo;endereço;nome;somente_envio\r\n" +
      "caixa;marina.souza@cliente.com.br;Marina Souza;não\r\n" +
      "caixa;boletim@cliente.com.br;Boletim mensal;sim\r\n" +
      "caixa;sem-arroba.cliente.com.br;Endereço errado;não\r\n",
  ),
]);

/**
 * Opens `path` (or keeps the page where it is when `path` is null), waits for
 * the WASM and the page's data (`ready`, and no "Carregando…" left), then
 * saves the viewport as `name`.png, scrolled to the top or, `centred`, to
 * `ready`. Anything random on screen (a generated
 * password) is masked.
 */
async function shot(
  page: Page,
  name: string,
  path: string | null,
  ready: (page: Page) => Locator,
  { centred = false }: { centred?: boolean } = {},
): Promise<void> {
  if (path !== null) await page.goto(path);
  await hydrated(page);
  const shown = ready(page).first();
  await expect(shown).toBeVisible();
  await expect(page.getByText("Carregando…").filter({ visible: true })).toHaveCount(0);
  await page.waitForLoadState("networkidle");
  if (centred) {
    await shown.evaluate((el) => el.scrollIntoView({ block: "center" }));
  } else {
    await page.evaluate(() => window.scrollTo(0, 0));
  }
  await page.screenshot({
    path: join(out, `${name}.png`),
    animations: "disabled",
    caret: "hide",
    scale: "css",
    mask: [page.locator("code.secret-value")],
  });
}

const h1 = (text: string | RegExp) => (page: Page) => page.getByRole("heading", { level: 1, name: text });

test.describe("docs/screenshots", () => {
  test.beforeAll(() => mkdirSync(out, { recursive: true }));

  test("1440×900: each main page", async ({ page }) => {
    test.setTimeout(180_000);
    await page.setViewportSize({ width: 1440, height: 900 });
    await signInPtBr(page, "e2e-admin");

    await shot(page, "01-inicio", "/", h1(/Olá/));
    await shot(page, "02-caixas-postais", "/mailboxes", (p) => p.locator("table tbody tr"));
    await shot(page, "03-caixa-postal", "/mailboxes/ana17@cliente.com.br", (p) => p.getByTestId("pointing"));
    // The message .ci/e2e.sh imported from ana17 to joao.silva an hour ago, bounced with 5.1.1.
    await shot(
      page,
      "04-rastreio",
      "/mailboxes/trace?hours=6&sender=ana17%40cliente.com.br&recipient=joao.silva%40gmail.com",
      (p) => p.locator("article.journey .explain"),
    );

    await page.goto("/mailboxes/import");
    await hydrated(page);
    await page.getByLabel("Arquivo CSV").setInputFiles({ name: "caixas.csv", mimeType: "text/csv", buffer: csv });
    await page.getByRole("button", { name: "Pré-visualizar (não grava nada)" }).click();
    await shot(page, "05-importacao-csv", null, (p) => p.getByRole("cell", { name: "marina.souza@cliente.com.br" }), {
      centred: true,
    });

    await shot(page, "06-mailflow-propostas", "/mailflow", (p) => p.locator("table.proposals tbody tr"));
    await shot(page, "07-deteccao", "/mailflow/detection", h1("Políticas de detecção"));
    // A week: yesterday's imported mail is in it (today has two messages).
    await shot(page, "08-graficos", "/charts?range=week", (p) =>
      p.getByRole("figure", { name: "Fluxo de e-mail" }).locator("svg"),
    );
    await page.goto("/charts/report");
    await hydrated(page);
    const period = page.getByTestId("period");
    const today = await period.textContent();
    await page.getByRole("button", { name: "Últimos 7 dias" }).click();
    await expect(period).not.toHaveText(today ?? "");
    await shot(page, "09-relatorio", null, (p) => p.getByTestId("period"));
    await shot(page, "10-equipe", "/admin/staff", (p) => p.getByRole("cell", { name: "e2e-support", exact: true }));
    await shot(page, "11-auditoria", "/admin/audit", (p) => p.locator("table tbody tr"));
  });

  test("390 px: a phone", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signInPtBr(page, "e2e-admin");
    await page.locator("label.menu-toggle").click();
    await shot(page, "12-celular-menu", null, (p) => p.getByRole("navigation", { name: "Seções" }));
    await shot(page, "13-celular-caixas-postais", "/mailboxes", (p) => p.locator("table tbody tr"));
  });
});
