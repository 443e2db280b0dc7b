//! The event socket's subscription, against a real WebSocket client on loopback.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;

use super::upgrade_subscribed;
use crate::call::CallId;
use crate::events::{Event, EventBus};

/// A client that places a call the moment its socket is open sees that call's first event,
/// even when the server's upgraded task first runs late. The server here runs on one thread
/// that is kept busy for 300 ms right after the 101 goes out (a loaded machine), while the
/// client, on another thread, publishes. Subscribing inside the upgraded task, as the server
/// once did, misses the event: it goes out before anyone listens.
#[tokio::test]
async fn an_event_published_right_after_the_socket_opens_is_not_missed() {
    let bus = EventBus::new(16);
    let serving = bus.clone();
    let app = Router::new().route(
        "/events",
        get(move |ws: WebSocketUpgrade| {
            let bus = serving.clone();
            async move {
                // Runs before the upgraded task's first poll: it blocks the server's only
                // thread once the 101 is written (hyper flushes it in the poll that ran this
                // handler) and before the upgraded task can start. The route /api/events goes
                // through the same helper.
                tokio::spawn(async { std::thread::sleep(Duration::from_millis(300)) });
                upgrade_subscribed(ws, &bus, |mut socket, mut rx| async move {
                    if let Ok(ev) = rx.recv().await {
                        let text = serde_json::to_string(&ev).expect("events serialise");
                        let _ = socket.send(Message::Text(text.into())).await;
                    }
                })
            }
        }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await
        })
    });

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/events")).await.expect("connect");
    bus.publish(Event::CallEnded { call_id: CallId("c-race".into()), reason: "test".into(), duration_ms: 1 });
    let first = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("the event published right after the socket opened never came")
        .expect("the socket closed")
        .expect("a WebSocket message");
    let text = first.into_text().expect("a text frame");
    assert!(text.contains("c-race"), "{text}");
}
