//! The supervisor's desk: the `/supervisor` page (embedded HTML/JS, no build step). A login
//! without the supervisor role gets a 403 for the page (and for every supervisor API); a
//! visitor who is not logged in gets the page's login form.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::auth::CurrentUser;
use super::AppError;
use crate::auth::Role;

const SUPERVISOR_HTML: &str = include_str!("assets/supervisor.html");
const SUPERVISOR_JS: &str = include_str!("assets/supervisor.js");

async fn page(user: Result<CurrentUser, AppError>) -> Response {
    match user {
        Ok(u) if u.0.role < Role::Supervisor => (
            StatusCode::FORBIDDEN,
            Html("<!doctype html><title>Forbidden</title><p>This page needs a supervisor login.</p>"),
        )
            .into_response(),
        _ => Html(SUPERVISOR_HTML).into_response(),
    }
}

pub fn routes() -> Router<super::AppState> {
    Router::new().route("/supervisor", get(page)).route(
        "/assets/supervisor.js",
        get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SUPERVISOR_JS) }),
    )
}
