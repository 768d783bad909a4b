//! Texts every page shares: the top bar, the sections and roles, the
//! home, account and sign-in pages, generic buttons and the errors any
//! server function may answer.

use crate::errors::AppError;
use crate::model::{Role, Section};

crate::texts! {
    /// Texts shared by every page (in the main WASM file).
    pub struct Common {
        brand = "Carteiro", "Carteiro";
        sections_label = "Sections", "Seções";
        menu = "Menu", "Menu";
        sign_out = "Sign out", "Sair";
        sign_in = "Sign in", "Entrar";
        loading = "Loading…", "Carregando…";
        page_loading = "The page is still loading; it will respond in a moment.", "A página ainda está carregando; ela responderá em instantes.";
        searching = "Searching…", "Buscando…";
        save = "Save", "Salvar";
        cancel = "Cancel", "Cancelar";
        search = "Search", "Buscar";
        edit = "Edit", "Editar";
        delete = "Delete", "Excluir";
        close = "Close", "Fechar";
        copy = "Copy", "Copiar";
        copied = "Copied", "Copiado";
        none = "—", "—";
        yes = "yes", "sim";
        no = "no", "não";
        home_title = "Home", "Início";
        account_title = "Your account", "Sua conta";
        not_found_title = "Not found", "Não encontrado";
        not_found_heading = "Page not found", "Página não encontrada";
        not_found_text = "There is no page at this address.", "Não há página neste endereço.";
        go_home = "Go to your home page", "Ir para a sua página inicial";
        section_mailboxes = "Mailboxes", "Caixas postais";
        section_mailflow = "MailFlow", "MailFlow";
        section_charts = "Charts", "Gráficos";
        section_admin = "Admin", "Administração";
        summary_mailboxes = "Find and change customer mailboxes, aliases and forwards; import them from CSV; trace a message.", "Encontre e altere caixas postais, aliases e encaminhamentos de clientes; importe-os de CSV; rastreie uma mensagem.";
        summary_mailflow = "Review abuse detections, approve or reject proposed blocks, lift blocks.", "Revise as detecções de abuso, aprove ou rejeite os bloqueios propostos, retire bloqueios.";
        summary_charts = "Mail flow over time per host and domain, the effect of blocks, and the daily report with CSV downloads.", "O fluxo de e-mail ao longo do tempo por servidor e domínio, o efeito dos bloqueios e o relatório diário com downloads em CSV.";
        summary_admin = "Staff accounts, roles and the audit log of every change.", "Contas da equipe, papéis e o registro de auditoria de cada alteração.";
        role_admin = "Administrator", "Administrador";
        role_support = "Support", "Suporte";
        role_security = "Security", "Segurança";
        role_manager = "Manager", "Gerente";
        err_unauthenticated = "Please sign in to continue.", "Entre para continuar.";
        err_forbidden = "Your account does not have permission for this.", "Sua conta não tem permissão para isso.";
        err_credentials = "Wrong username or password.", "Usuário ou senha incorretos.";
        err_busy = "The server is busy; nothing was changed. Please try again in a moment.", "O servidor está ocupado; nada foi alterado. Tente de novo em instantes.";
        err_internal = "Something went wrong on the server; the details are in its log.", "Algo deu errado no servidor; os detalhes estão no log dele.";
        language = "Language", "Idioma";
        language_saved = "Language changed.", "Idioma alterado.";
        language_unknown = "Choose Português (Brasil) or English.", "Escolha Português (Brasil) ou English.";
        time_zone_note = "Times are shown in this time zone; hover over one to see it in UTC.", "Os horários são mostrados neste fuso; passe o mouse sobre um para vê-lo em UTC.";
    }
    formats {
        hello(name: &str) = format!("Hello, {name}"), format!("Olá, {name}");
        roles_title(roles: &str) = format!("Roles: {roles}"), format!("Papéis: {roles}");
        not_found(what: &str) = format!("{what} was not found."), format!("{what} não existe.");
        transport(detail: &str) = format!("Could not talk to the server: {detail}"), format!("Não foi possível falar com o servidor: {detail}");
    }
}

impl Common {
    pub fn section(self, s: Section) -> &'static str {
        match s {
            Section::Mailboxes => self.section_mailboxes(),
            Section::MailFlow => self.section_mailflow(),
            Section::Charts => self.section_charts(),
            Section::Admin => self.section_admin(),
        }
    }

    pub fn section_summary(self, s: Section) -> &'static str {
        match s {
            Section::Mailboxes => self.summary_mailboxes(),
            Section::MailFlow => self.summary_mailflow(),
            Section::Charts => self.summary_charts(),
            Section::Admin => self.summary_admin(),
        }
    }

    pub fn role(self, r: Role) -> &'static str {
        match r {
            Role::Admin => self.role_admin(),
            Role::Support => self.role_support(),
            Role::Security => self.role_security(),
            Role::Manager => self.role_manager(),
        }
    }

    /// An error as the page shows it. Messages the server wrote
    /// (validation, conflicts, throttling) are already in the caller's
    /// language; the fixed ones are translated here.
    pub fn error(self, e: &AppError) -> String {
        match e {
            AppError::Unauthenticated => self.err_unauthenticated().into(),
            AppError::Forbidden => self.err_forbidden().into(),
            AppError::InvalidCredentials => self.err_credentials().into(),
            AppError::Busy => self.err_busy().into(),
            AppError::Internal => self.err_internal().into(),
            AppError::NotFound(what) => self.not_found(what),
            AppError::Transport(detail) => self.transport(detail),
            other => other.to_string(),
        }
    }
}

crate::texts! {
    /// What the server answers when it refuses a request before any page
    /// or server function sees it (its size and time limits, a foreign
    /// site's post).
    pub struct LimitTexts {
        body_stalled = "The request body stopped arriving; send it again.", "O corpo da requisição parou de chegar; envie de novo.";
        body_unreadable = "The request body could not be read.", "Não foi possível ler o corpo da requisição.";
        not_utf8 = "The request is not valid UTF-8 text.", "A requisição não é um texto UTF-8 válido.";
    }
    formats {
        timed_out(secs: u64) =
            format!("The server stopped this request after {secs} seconds. Try again, or ask for less (e.g. a shorter range)."),
            format!("O servidor interrompeu esta requisição após {secs} segundos. Tente de novo, ou peça menos (por exemplo, um período mais curto).");
        too_large(mb: usize) = format!("The request is larger than {mb} MB."), format!("A requisição passa de {mb} MB.");
        cross_site(reason: &str) = format!("Cross-site request refused: {reason}."), format!("Requisição de outro site recusada: {reason}.");
    }
}
