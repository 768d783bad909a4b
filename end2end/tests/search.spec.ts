import { expect, test } from "@playwright/test";
import { signInPtBr } from "./fixtures/pt_br";
import { hydrated } from "./fixtures/session";

// Issue 18: support's journey in Portuguese. The demo domain cliente.com.br
// (serve --demo) has "João Pereira" (joao5@), whom the alias
// contato@cliente.com.br reaches, and the alias domain cliente.net.br.
test.use({ locale: "pt-BR", permissions: ["clipboard-read", "clipboard-write"] });

test("o suporte encontra uma caixa postal pelo sobrenome, abre e vê os aliases que chegam a ela", async ({ page }) => {
  await signInPtBr(page, "e2e-support");
  await page.getByRole("navigation", { name: "Seções" }).getByRole("link", { name: "Caixas postais", exact: true }).click();
  await expect(page).toHaveURL(/\/mailboxes$/);
  await hydrated(page);

  // Só o sobrenome: buscado como nome, qualquer palavra dele.
  await page.getByRole("searchbox", { name: "Buscar" }).fill("pereira");
  await page.getByRole("button", { name: "Buscar" }).click();
  await expect(page).toHaveURL(/q=pereira/);
  await expect(page.getByTestId("searched-as")).toContainText("Buscado como nome");
  const row = page.getByRole("row", { name: /João Pereira/ });
  await expect(row).toContainText("ativa");
  await row.getByRole("link", { name: "joao5@cliente.com.br" }).click();
  await expect(page).toHaveURL(/\/mailboxes\/joao5@cliente\.com\.br$/);
  await hydrated(page);

  // A página dela: o alias que chega a ela, com link.
  await expect(page.getByRole("heading", { level: 1 })).toContainText("joao5@cliente.com.br");
  const chega = page.getByTestId("pointing");
  await expect(chega.getByRole("heading", { name: "O que chega a ela" })).toBeVisible();
  await expect(chega.getByRole("link", { name: "contato@cliente.com.br" })).toHaveAttribute(
    "href",
    "/mailboxes/aliases?q=contato@cliente.com.br",
  );
  await expect(page.getByTestId("blocks")).toContainText("Nenhum bloqueio ativo nesta conta.");

  // Avisos no passado que se substituem: suspender e reativar deixam um só.
  await page.getByLabel("Motivo").fill("fatura em aberto");
  await page.getByRole("button", { name: "Suspender" }).click();
  await expect(page.getByRole("status").first()).toHaveText("Caixa suspensa.");
  await page.getByRole("button", { name: "Reativar" }).click();
  await expect(page.getByRole("status").first()).toHaveText("Caixa reativada.");
  await expect(page.getByText("Caixa suspensa.")).toHaveCount(0);

  // A senha gerada, com o botão Copiar (a área de transferência recebe ela).
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Redefinir senha" }).click();
  await expect(page.getByRole("status").first()).toHaveText("Senha redefinida.");
  const senha = (await page.getByTestId("one-time-password").textContent())!.trim();
  await page.getByRole("button", { name: "Copiar" }).click();
  await expect(page.getByText("Copiado")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(senha);

  // Um endereço do domínio alias encontra a caixa verdadeira.
  await page.goto("/mailboxes?q=joao5%40cliente.net.br");
  await hydrated(page);
  await expect(page.getByTestId("searched-as")).toContainText("domínio alias de cliente.com.br");
  await expect(page.getByRole("link", { name: "joao5@cliente.com.br" })).toBeVisible();
});

test("uma caixa postal que não existe responde 404 com uma página clara", async ({ page }) => {
  await signInPtBr(page, "e2e-support");
  const res = await page.goto("/mailboxes/ninguem@lugar-nenhum.example");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Caixa postal não encontrada" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Buscar nas caixas postais" })).toBeVisible();
});
