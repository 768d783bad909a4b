import { expect, test } from "@playwright/test";
import { signInPtBr } from "./fixtures/pt_br";
import { hydrated } from "./fixtures/session";

// Support works in Portuguese: the whole journey in pt-BR.
test.use({ locale: "pt-BR" });

// .ci/e2e.sh imported a message from ana17@cliente.com.br to
// joao.silva@gmail.com an hour ago that Gmail bounced with 5.1.1, beside
// one she sent to boss@gmail.com.
test("suporte descobre por que a mensagem de ana17 para joao.silva voltou", async ({ page }) => {
  await signInPtBr(page, "e2e-support");

  await page.goto("/mailboxes/trace");
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Rastreio de mensagens");
  await page.getByLabel("Remetente").fill("ana17@cliente.com.br");
  await page.getByLabel("Destinatário").fill("joao.silva@gmail.com");
  await page.getByLabel("Situação").selectOption({ label: "devolvidas" });
  await page.getByLabel("Quando").selectOption({ label: "última hora" });
  await page.getByRole("button", { name: "Rastrear" }).click();
  await expect(page).toHaveURL(/sender=ana17%40cliente\.com\.br/);

  // More than an hour ago: the page says which window it read, and offers
  // the next wider one.
  const nothing = page.locator(".nothing-found");
  await expect(nothing).toContainText("Nenhuma mensagem entre");
  await nothing.getByRole("link", { name: "Buscar nas últimas 6 horas" }).click();
  await expect(page).toHaveURL(/hours=6/);
  await expect(page.getByLabel("Quando")).toHaveValue("6");

  // Only the bounced message from her to him, and what the reply means.
  await expect(page.locator(".trace-condition")).toHaveText(
    "De ana17@cliente.com.br para joao.silva@gmail.com. Somente devolvidas.",
  );
  const journeys = page.locator("article.journey");
  await expect(journeys).toHaveCount(1);
  const journey = journeys.first();
  await expect(journey).toHaveAttribute("data-queue-id", "3B0B0B0B0B");
  await expect(journey).toContainText("autenticado como ana17@cliente.com.br");
  const row = journey.locator("tbody tr", { hasText: "joao.silva@gmail.com" });
  await expect(row.locator(".badge")).toHaveText("devolvida");
  await expect(row).toContainText("5.1.1");
  await expect(row.locator(".explain")).toHaveText(
    "A caixa postal do destinatário não existe no provedor de destino: o endereço está digitado errado ou foi desativado.",
  );
});
