//! `authentication-basic`: `Authorization: Basic base64(username:password)`
//! on the request to the backend (both attributes may be expressions; the
//! text is sent as UTF-8).

use base64::Engine as _;
use sluice_engine::runtime::{CompileCx, Compiled, CompiledValue, Exchange, Run, Stage};
use sluice_engine::xml::Element;

#[derive(Debug)]
pub(crate) struct AuthenticationBasic {
    username: CompiledValue,
    password: CompiledValue,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(AuthenticationBasic {
        username: cx.required(e, "username")?,
        password: cx.required(e, "password")?,
    }))
}

impl Stage for AuthenticationBasic {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let credentials = (|| {
            let user = self.username.eval_string(x)?.unwrap_or_default();
            let password = self.password.eval_string(x)?.unwrap_or_default();
            Ok(format!("{user}:{password}"))
        })();
        Run::done(credentials.map(|c| {
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(c)
            );
            x.request()
                .write(|r| r.headers.set_one("Authorization", value));
        }))
    }
}
