import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { hydrated } from "./fixtures/session";
import { signInPtBr } from "./fixtures/pt_br";

test.use({ locale: "pt-BR" });

// What Excel in Portuguese saves as "CSV UTF-8": a BOM, `;`, CRLF, `sim`/`não`,
// Portuguese column names.
const excel = Buffer.concat([
  Buffer.from([0xef, 0xbb, 0xbf]),
  Buffer.from(
    "tipo;endereço;nome;somente_envio\r\n" +
      "caixa;e2e-ptbr-1@cliente.com.br;Joana Pereira;não\r\n" +
      "caixa;e2e-ptbr-2@cliente.com.br;Boletim;sim\r\n",
  ),
]);

test("o suporte importa um CSV do Excel (; com BOM e sim) e baixa as senhas uma única vez", async ({ page }) => {
  await signInPtBr(page, "e2e-support");
  await page.goto("/mailboxes/import");
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Importação de CSV");
  const arquivo = page.getByLabel("Arquivo CSV");
  const previa = page.getByRole("button", { name: "Pré-visualizar (não grava nada)" });
  const importar = page.getByRole("button", { name: "Importar", exact: true });
  await expect(importar).toBeDisabled();

  // A clean preview enables Import; choosing another file disables it again.
  await arquivo.setInputFiles({ name: "caixas.csv", mimeType: "text/csv", buffer: excel });
  await previa.click();
  await expect(page.getByText("Prévia: todas as 2 linhas podem ser importadas. Nada foi gravado ainda.")).toBeVisible();
  await expect(page.getByRole("cell", { name: "e2e-ptbr-1@cliente.com.br", exact: true })).toBeVisible();
  await expect(importar).toBeEnabled();
  await arquivo.setInputFiles({
    name: "outro.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("tipo;endereco\ncaixa;e2e-ptbr-3@cliente.com.br\n"),
  });
  await expect(importar).toBeDisabled();
  await arquivo.setInputFiles({ name: "caixas.csv", mimeType: "text/csv", buffer: excel });
  await expect(importar).toBeDisabled();
  await previa.click();
  await expect(page.getByText("Prévia: todas as 2 linhas podem ser importadas.", { exact: false })).toBeVisible();
  await expect(importar).toBeEnabled();

  // Import: done, the generated passwords shown once.
  await importar.click();
  await expect(page.getByText("Todas as 2 linhas foram importadas.", { exact: false })).toBeVisible();
  const shown = await page.locator("code.secret-value").allTextContents();
  expect(shown).toHaveLength(2);

  // Downloaded once, as address;password.
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Baixar senhas (CSV)" }).click();
  const download = await downloading;
  const name = download.suggestedFilename();
  expect(name).toMatch(/^senhas-importacao-\d+\.csv$/);
  const csv = readFileSync(await download.path(), "utf8");
  expect(csv).toContain("address;password\n");
  expect(csv).toContain(`e2e-ptbr-1@cliente.com.br;${shown[0]}\n`);
  expect(csv).toContain(`e2e-ptbr-2@cliente.com.br;${shown[1]}\n`);
  await expect(page.getByText("Senhas baixadas: não é possível baixá-las de novo.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Baixar senhas (CSV)" })).toHaveCount(0);

  // A second download is refused, saying why.
  const id = name.match(/\d+/)![0];
  const again = await page.request.post(`/api/provision/import_passwords/${id}`);
  expect(again.status()).toBe(410);
  expect(await again.text()).toContain("Estas senhas já foram baixadas");
});

test("na prévia, uma linha com erro fica nas colunas da tabela", async ({ page }) => {
  await signInPtBr(page, "e2e-support");
  await page.goto("/mailboxes/import");
  await hydrated(page);
  await page.getByLabel("Arquivo CSV").setInputFiles({
    name: "com-erro.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("tipo;endereco\ncaixa;e2e-ptbr-9@cliente.com.br\ncaixa;sem-arroba.cliente.com.br\n"),
  });
  await page.getByRole("button", { name: "Pré-visualizar (não grava nada)" }).click();
  const bad = page.locator("tr.row-error");
  await expect(bad).toHaveCount(1);
  expect(await bad.evaluate((tr) => getComputedStyle(tr).display)).toBe("table-row");
  // Its message sits under the Result heading, like the good row's summary.
  const heading = await page.getByRole("columnheader", { name: "Resultado" }).boundingBox();
  const message = await bad.locator("td").nth(3).boundingBox();
  expect(Math.abs(message!.x - heading!.x)).toBeLessThan(2);
  await expect(bad.locator("td").nth(3)).toContainText("sem-arroba.cliente.com.br");
});
