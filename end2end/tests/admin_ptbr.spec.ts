import { expect, test, type Page } from "@playwright/test";
import { signInPtBr } from "./fixtures/pt_br";
import { hydrated } from "./fixtures/session";

// The portal in Portuguese (the browser asks for pt-BR): the admin's pages,
// inline edits that fail on their own row, and a phone-sized screen.
test.use({ locale: "pt-BR" });

/** How far the page is wider than its window (0: it fits). */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

test("the pages speak Portuguese and the still-loading note goes once the page works", async ({ page }) => {
  await signInPtBr(page, "e2e-admin");
  await expect(page.locator("html")).toHaveAttribute("lang", "pt-BR");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Olá");
  await expect(page.locator("body[data-loading]")).toHaveCount(0);
  await page.getByRole("navigation", { name: "Seções" }).getByRole("link", { name: "Administração" }).click();
  await expect(page.getByRole("link", { name: /Registro de auditoria/ })).toBeVisible();
});

test("an inline edit that fails says so on its row, which goes back to the stored targets", async ({ page }) => {
  await signInPtBr(page, "e2e-admin");
  await page.goto("/mailboxes/aliases");
  await hydrated(page);
  // A new alias to edit.
  await page.getByLabel("Endereço").fill("vendas-e2e@cliente.com.br");
  await page.getByLabel("Entrega para").fill("carla7@cliente.com.br");
  await page.getByRole("button", { name: "Criar alias" }).click();
  const row = page.locator("tr[data-alias='vendas-e2e@cliente.com.br']");
  await expect(row).toBeVisible();
  const targets = row.getByRole("textbox", { name: /Destinos de/ });
  await expect(targets).toHaveValue("carla7@cliente.com.br");
  await targets.fill("nao é um endereço");
  await row.getByRole("button", { name: "Salvar" }).click();
  await expect(row.locator(".row-error")).toContainText("voltou aos valores gravados");
  await expect(targets).toHaveValue("carla7@cliente.com.br");
});

test("the token form explains a bad number of days by the field", async ({ page }) => {
  await signInPtBr(page, "e2e-admin");
  await page.goto("/admin/tokens");
  await hydrated(page);
  await page.getByLabel("Nome (quem ou o que o usa)").fill("crm-e2e");
  // A number input refuses letters; an out-of-range number reaches the server.
  await page.getByLabel(/Validade/).fill("99999");
  await page.getByLabel(/Validade/).evaluate((el) => el.removeAttribute("max"));
  await page.getByRole("button", { name: "Emitir token" }).click();
  await expect(page.locator(".field-error[data-field=days]")).toContainText("número inteiro de dias");
});

test("the audit log fits a wide screen", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await signInPtBr(page, "e2e-admin");
  await page.goto("/admin/audit");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Registro de auditoria" })).toBeVisible();
  const actions = page.getByLabel("Ação");
  await expect(actions.locator("option", { hasText: "auth.login" }).first()).toBeAttached();
  expect(await overflow(page)).toBe(0);
});

test("on a phone the top bar folds into a menu and no page is wider than the screen", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signInPtBr(page, "e2e-admin");
  const sections = page.getByRole("navigation", { name: "Seções" });
  await expect(sections).toBeHidden();
  await page.locator("label.menu-toggle").click();
  await expect(sections).toBeVisible();
  await sections.getByRole("link", { name: "Caixas postais" }).click();
  await expect(page).toHaveURL(/\/mailboxes$/);
  await hydrated(page);
  await expect(sections).toBeHidden();
  for (const path of ["/mailboxes", "/admin/audit", "/mailflow", "/charts/report"]) {
    await page.goto(path);
    await hydrated(page);
    expect(await overflow(page), path).toBe(0);
  }
});
