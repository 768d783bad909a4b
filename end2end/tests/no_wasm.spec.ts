import { expect, test, type Page } from "@playwright/test";
import { signInPtBr } from "./fixtures/pt_br";
import { hydrated, password } from "./fixtures/session";

// Forms on a slow link or without JavaScript: the browser posts them
// itself, and the page it comes back to shows the outcome once — the
// generated password (never in the URL), or the error with what was typed.

/** The "Nova caixa postal" panel of /mailboxes. */
const createPanel = (page: Page) =>
  page.locator("section.panel", { has: page.getByRole("heading", { name: "Nova caixa postal" }) });

test.describe("without JavaScript", () => {
  test.use({ locale: "pt-BR", javaScriptEnabled: false });

  test("support signs in, creates a mailbox and sees its password once", async ({ page }) => {
    // Signing in works as a plain form too.
    await page.goto("/login");
    await page.getByLabel("Usuário").fill("e2e-support");
    await page.getByLabel("Senha").fill(password());
    await page.getByRole("button", { name: "Entrar" }).click();
    await expect(page).toHaveURL(/\/$/);

    await page.goto("/mailboxes");
    const panel = createPanel(page);
    const address = `semjs${Date.now()}@cliente.com.br`;

    // Refused: the form comes back with what was typed, the message beside the quota.
    await panel.getByLabel("Endereço").fill(address);
    await panel.getByLabel("Nome", { exact: true }).fill("Sem Script");
    await panel.getByLabel("Senha").fill("uma senha digitada");
    await panel.getByLabel("Cota (MB)").fill("muito");
    await panel.getByRole("button", { name: "Criar caixa postal" }).click();
    await expect(page).toHaveURL(/\/mailboxes\?/);
    await expect(panel.locator(".field-error[data-field=quota_mb]")).toBeVisible();
    await expect(panel.getByLabel("Endereço")).toHaveValue(address);
    await expect(panel.getByLabel("Nome", { exact: true })).toHaveValue("Sem Script");
    await expect(panel.getByLabel("Senha")).toHaveValue("");

    // Accepted: the page shows the generated password, which is in no URL.
    await panel.getByLabel("Cota (MB)").fill("");
    await panel.getByRole("button", { name: "Criar caixa postal" }).click();
    await expect(page).toHaveURL(/\/mailboxes\??$/);
    await expect(page.getByText(`Caixa postal ${address} criada.`)).toBeVisible();
    const secret = page.getByTestId("one-time-password");
    await expect(secret).toBeVisible();
    const generated = (await secret.textContent())!.trim();
    expect(generated.length).toBeGreaterThanOrEqual(16);
    expect(page.url()).not.toContain(generated);
    // No copy button without JavaScript: the note says how to copy by hand.
    await expect(page.getByRole("button", { name: "Copiar" })).toBeHidden();
    await expect(page.getByText("Clique nela para selecioná-la")).toBeVisible();

    // Once: reloading the page does not show it again.
    await page.reload();
    await expect(page.getByTestId("one-time-password")).toHaveCount(0);
    await expect(page.getByRole("link", { name: address })).toBeVisible();
  });
});

test.describe("on a slow link", () => {
  test.use({ locale: "pt-BR" });

  test("a form sent before the WASM loaded shows its password, and the page then hydrates", async ({ page }) => {
    await signInPtBr(page, "e2e-support");
    // The page's code has not arrived yet: the form is the browser's own.
    await page.route(/\.wasm$/, (route) => route.abort());
    await page.goto("/mailboxes");
    const address = `lento${Date.now()}@cliente.com.br`;
    await createPanel(page).getByLabel("Endereço").fill(address);
    await page.unroute(/\.wasm$/);
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));

    await createPanel(page).getByRole("button", { name: "Criar caixa postal" }).click();
    await expect(page).toHaveURL(/\/mailboxes\??$/);
    await hydrated(page);
    const secret = page.getByTestId("one-time-password");
    await expect(secret).toBeVisible();
    expect(page.url()).not.toContain((await secret.textContent())!.trim());
    // Hydrated with the same outcome: the copy button is there now.
    await expect(page.getByRole("button", { name: "Copiar" })).toBeVisible();
    expect(errors).toEqual([]);

    // And the form works with WASM as before.
    const second = `lento2${Date.now()}@cliente.com.br`;
    await createPanel(page).getByLabel("Endereço").fill(second);
    await createPanel(page).getByRole("button", { name: "Criar caixa postal" }).click();
    await expect(page.getByText(`Caixa postal ${second} criada.`)).toBeVisible();
    await expect(page.getByTestId("one-time-password")).toHaveCount(1);
  });
});
