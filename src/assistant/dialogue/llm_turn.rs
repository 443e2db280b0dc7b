//! A caller's open request through the LLM backend. The model understands and phrases; what it
//! can do is call the built-in engine's own flows as tools, so verification before data, the
//! policy and confirmation before any change (answers to the engine's questions never reach
//! the model: the engine takes them) hold whatever the model says.

use serde_json::{json, Value};

use super::{Assistant, EscalationReason, Reply};
use crate::assistant::intents::Intent;
use crate::assistant::llm::LlmError;

/// Tool rounds per caller turn before giving up on the model.
const MAX_ROUNDS: usize = 4;

fn tools() -> Vec<Value> {
    let names: Vec<&str> = Intent::ACCOUNT.iter().map(|i| i.name()).collect();
    vec![
        json!({"type": "function", "function": {
            "name": "account_request",
            "description": "Serve a request about the caller's account through the company's systems. It verifies the \
                caller first when needed, checks the policy and asks the caller to confirm any change. Returns what \
                to tell the caller.",
            "parameters": {"type": "object", "properties": {
                "request": {"type": "string", "enum": names},
                "order_number": {"type": "string", "description": "digits only, if the caller gave one"},
                "details": {"type": "string", "description": "a date, e-mail, phone number or address the caller gave"}
            }, "required": ["request"]}
        }}),
        json!({"type": "function", "function": {
            "name": "hand_over",
            "description": "Transfer the caller to a human agent: they ask for a person, the matter needs one \
                (fraud, dispute, complaint, bereavement, legal) or you cannot help.",
            "parameters": {"type": "object", "properties": {
                "reason": {"type": "string", "enum": ["asked_for_person", "needs_human", "not_understood"]}
            }, "required": ["reason"]}
        }}),
    ]
}

impl Assistant {
    fn system_prompt(&self) -> String {
        let who = match (&self.customer, &self.verified) {
            (Some(c), Some(_)) => format!("The caller is {}, verified.", c.name),
            (Some(_), None) => "The caller's number is on file but they are not verified yet.".into(),
            (None, _) => "The caller's number is not on file.".into(),
        };
        format!(
            "You are the phone assistant of an online shop's customer service. Speak {lang} only, in one to three \
             short spoken sentences, no lists or markdown. {who} For anything about orders, refunds, payments or the \
             caller's details call account_request and tell the caller what it returns, faithfully: never invent \
             order, payment or account facts, never promise what a tool did not do. If the caller wants a person, or \
             the matter is fraud, a dispute, a complaint, a bereavement or legal, call hand_over.",
            lang = self.language
        )
    }

    /// Handle an open request with the model. `Ok(false)`: the model had nothing usable, the
    /// built-in engine should answer. On `Err` the caller has heard nothing from this turn yet.
    pub(super) async fn llm_turn(&mut self, r: &mut Reply, text: &str) -> Result<bool, LlmError> {
        let Some(llm) = self.llm.clone() else { return Ok(false) };
        let start = self.chat.len();
        self.chat.push(json!({"role": "user", "content": text}));
        let tools = tools();
        let mut engine_said: Vec<String> = Vec::new();
        for _ in 0..MAX_ROUNDS {
            let mut messages = vec![json!({"role": "system", "content": self.system_prompt()})];
            messages.extend(self.chat.iter().cloned());
            let c = match llm.complete(&messages, &tools).await {
                Ok(c) => c,
                Err(e) if engine_said.is_empty() => {
                    self.chat.truncate(start);
                    return Err(e);
                }
                // A tool already ran: say what the engine said rather than running it again.
                Err(_) => {
                    r.say.extend(engine_said);
                    return Ok(true);
                }
            };
            if c.tool_calls.is_empty() {
                let Some(content) = c.content else {
                    self.chat.truncate(start);
                    return Ok(false);
                };
                self.chat.push(json!({"role": "assistant", "content": content}));
                r.say.push(content);
                return Ok(true);
            }
            self.chat.push(
                json!({"role": "assistant", "content": null, "tool_calls": c.tool_calls.iter().map(|t| json!({
                "id": t.id, "type": "function",
                "function": {"name": t.name, "arguments": t.arguments.to_string()}
            })).collect::<Vec<_>>()}),
            );
            for call in &c.tool_calls {
                let mut scratch = Reply { language: self.language.clone(), ..Default::default() };
                let result = self.llm_tool(&mut scratch, &call.name, &call.arguments, text).await;
                r.actions.extend(scratch.actions.iter().cloned());
                r.intent = scratch.intent.or(r.intent);
                engine_said.extend(scratch.say.iter().cloned());
                if scratch.escalate.is_some() || self.done || scratch.take_card.is_some() {
                    // Hand-overs, goodbyes and a card capture's prompt are said in the
                    // engine's words.
                    r.escalate = scratch.escalate;
                    r.hangup = scratch.hangup;
                    r.take_card = scratch.take_card;
                    r.say.extend(scratch.say);
                    return Ok(true);
                }
                self.chat.push(json!({"role": "tool", "tool_call_id": call.id, "content": result}));
            }
        }
        r.say.extend(engine_said);
        Ok(!r.say.is_empty())
    }

    /// Run one tool; returns what the model reads back.
    async fn llm_tool(&mut self, r: &mut Reply, name: &str, args: &Value, text: &str) -> String {
        match name {
            "account_request" => {
                let asked = args.get("request").and_then(Value::as_str).unwrap_or_default();
                let Some(intent) = Intent::ACCOUNT.iter().copied().find(|i| i.name() == asked) else {
                    return format!("error: unknown request {asked:?}");
                };
                r.intent = Some(intent);
                // The engine reads the order number and details from text, as if the caller
                // had said them, next to what the caller actually said.
                let extra: Vec<&str> =
                    ["order_number", "details"].iter().filter_map(|k| args.get(*k).and_then(Value::as_str)).collect();
                let request = format!("{} {}", extra.join(" "), text);
                self.dispatch(r, intent, request.trim()).await;
                r.act("llm", format!("account_request {asked}"), true);
                json!({"tell_the_caller": r.say.join(" ")}).to_string()
            }
            "hand_over" => {
                let reason = match args.get("reason").and_then(Value::as_str) {
                    Some("asked_for_person") => EscalationReason::AskedForPerson,
                    Some("not_understood") => EscalationReason::NotUnderstood,
                    _ => EscalationReason::NeedsHuman,
                };
                self.escalate(r, reason, None);
                "handed over".into()
            }
            other => format!("error: no tool {other:?}"),
        }
    }
}

#[cfg(test)]
#[path = "llm_tests.rs"]
mod tests;
