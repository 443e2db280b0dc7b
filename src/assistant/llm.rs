//! The optional LLM backend: a `LanguageModel` trait and an OpenAI-compatible chat-completions
//! client (llama.cpp's `llama-server`, vLLM, Ollama, hosted APIs). Off by default: the
//! built-in engine needs no network. When on, the model understands and phrases; the tools it
//! may call are the built-in engine's own flows (see `dialogue/llm_turn.rs`), so verification,
//! the policy and confirmation hold whatever the model says. Any error or timeout falls back
//! to the built-in engine for the rest of the call.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

/// `[llm]`
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    pub enabled: bool,
    /// The API's base URL, up to and including `/v1`.
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the API key (none needed for a local server).
    pub api_key_env: String,
    /// Per completion; past it the call continues on the built-in engine.
    pub timeout_ms: u64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: "http://127.0.0.1:8081/v1".into(),
            model: "local".into(),
            api_key_env: "SWITCHBOARD_LLM_API_KEY".into(),
            timeout_ms: 8000,
        }
    }
}

impl LlmConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(format!("llm.base_url {:?} must be an http:// or https:// URL", self.base_url));
        }
        if self.model.trim().is_empty() || self.timeout_ms == 0 {
            return Err("llm.model must be set and llm.timeout_ms be at least 1".into());
        }
        Ok(())
    }
}

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: Value,
}

/// One completion: text to say, or tools to call first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub content: Option<String>,
    pub tool_calls: Vec<ToolCall>,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("language model unreachable or failed: {0}")]
    Unavailable(String),
    #[error("language model answer not understood: {0}")]
    BadAnswer(String),
}

/// A chat model with tool calling. `messages` and `tools` are in the OpenAI format.
#[async_trait]
pub trait LanguageModel: Send + Sync {
    fn name(&self) -> &str;
    async fn complete(&self, messages: &[Value], tools: &[Value]) -> Result<Completion, LlmError>;
}

/// An OpenAI-compatible `/chat/completions` endpoint.
pub struct OpenAiCompatible {
    agent: ureq::Agent,
    url: String,
    model: String,
    key: Option<String>,
}

impl OpenAiCompatible {
    pub fn new(cfg: &LlmConfig) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(cfg.timeout_ms)))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            agent,
            url: format!("{}/chat/completions", cfg.base_url.trim_end_matches('/')),
            model: cfg.model.clone(),
            key: std::env::var(&cfg.api_key_env).ok().filter(|k| !k.is_empty()),
        }
    }
}

/// Parse a chat-completions answer.
pub fn parse_completion(body: &Value) -> Result<Completion, LlmError> {
    let message = body
        .pointer("/choices/0/message")
        .ok_or_else(|| LlmError::BadAnswer(format!("no choices[0].message in {}", truncate(&body.to_string()))))?;
    let content = message.get("content").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let mut tool_calls = Vec::new();
    for c in message.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
        let name = c.pointer("/function/name").and_then(Value::as_str).unwrap_or_default().to_string();
        // Arguments are a JSON string in the standard, an object in some servers.
        let arguments = match c.pointer("/function/arguments") {
            Some(Value::String(s)) if s.trim().is_empty() => json!({}),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map_err(|e| LlmError::BadAnswer(format!("arguments of {name} are not JSON: {e}")))?,
            Some(v) => v.clone(),
            None => json!({}),
        };
        let id = c.get("id").and_then(Value::as_str).unwrap_or(&name).to_string();
        tool_calls.push(ToolCall { id, name, arguments });
    }
    Ok(Completion { content: content.map(str::to_string), tool_calls })
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

#[async_trait]
impl LanguageModel for OpenAiCompatible {
    fn name(&self) -> &str {
        &self.model
    }

    async fn complete(&self, messages: &[Value], tools: &[Value]) -> Result<Completion, LlmError> {
        let body = json!({
            "model": self.model, "messages": messages, "tools": tools,
            "tool_choice": "auto", "temperature": 0.2, "max_tokens": 300,
        });
        let (agent, url, key) = (self.agent.clone(), self.url.clone(), self.key.clone());
        let (status, text) = tokio::task::spawn_blocking(move || -> Result<(u16, String), String> {
            let mut req = agent.post(&url).header("Content-Type", "application/json");
            if let Some(k) = &key {
                req = req.header("Authorization", &format!("Bearer {k}"));
            }
            let mut resp = req.send(body.to_string()).map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            Ok((status, resp.body_mut().with_config().limit(4 << 20).read_to_string().map_err(|e| e.to_string())?))
        })
        .await
        .map_err(|e| LlmError::Unavailable(e.to_string()))?
        .map_err(LlmError::Unavailable)?;
        if !(200..300).contains(&status) {
            return Err(LlmError::Unavailable(format!("HTTP {status}: {}", truncate(&text))));
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| LlmError::BadAnswer(e.to_string()))?;
        parse_completion(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_and_tool_calls() {
        let c = parse_completion(&json!({"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[
            {"id":"c1","type":"function","function":{"name":"verify_caller","arguments":"{\"factor\":\"pin\",\"value\":\"1234\"}"}}
        ]}}]}))
        .unwrap();
        assert_eq!(c.content, None);
        assert_eq!(c.tool_calls[0].name, "verify_caller");
        assert_eq!(c.tool_calls[0].arguments["value"], "1234");
        let c = parse_completion(&json!({"choices":[{"message":{"content":" Hello! "}}]})).unwrap();
        assert_eq!(c.content.as_deref(), Some("Hello!"));
        assert!(parse_completion(&json!({"error":"x"})).is_err());
        assert!(parse_completion(
            &json!({"choices":[{"message":{"tool_calls":[{"function":{"name":"x","arguments":"{"}}]}}]})
        )
        .is_err());
    }
}
