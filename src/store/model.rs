//! The back office's records, as the assistant and the agent desktop see them.

use serde::{Deserialize, Serialize};

/// A customer. `date_of_birth` and `pin` are verification secrets: they never leave the
/// back office in a case file or a log line (see `Customer::public`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub market: String,
    pub language: String,
    pub phones: Vec<String>,
    #[serde(skip, default)]
    pub date_of_birth: String,
    #[serde(skip, default)]
    pub pin: String,
}

/// An order's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    Shipped,
    Delivered,
    Cancelled,
    Returned,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "placed",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "placed" => Self::Placed,
            "shipped" => Self::Shipped,
            "delivered" => Self::Delivered,
            "cancelled" => Self::Cancelled,
            "returned" => Self::Returned,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub name: String,
    pub quantity: i64,
    pub unit_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: i64,
    pub number: String,
    pub customer_id: i64,
    pub merchant: String,
    pub currency: String,
    pub total_cents: i64,
    pub status: OrderStatus,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub ordered_on: String,
    pub shipped_on: Option<String>,
    pub expected_on: Option<String>,
    pub delivered_on: Option<String>,
    pub items: Vec<OrderItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Scheduled,
    Paid,
    Overdue,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Paid => "paid",
            Self::Overdue => "overdue",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "scheduled" => Self::Scheduled,
            "paid" => Self::Paid,
            "overdue" => Self::Overdue,
            _ => return None,
        })
    }
}

/// One instalment of an order's payment plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub instalment: i64,
    pub of_instalments: i64,
    pub amount_cents: i64,
    pub currency: String,
    pub due_on: String,
    pub status: PaymentStatus,
    pub paid_on: Option<String>,
    pub postponed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub item: Option<String>,
    pub amount_cents: i64,
    pub currency: String,
    pub reason: String,
    pub status: String,
    pub created_at: String,
    pub call_id: Option<String>,
}

/// One contact with a customer and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: i64,
    pub customer_id: Option<i64>,
    pub call_id: Option<String>,
    pub channel: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub outcome: String,
    pub intent: Option<String>,
    pub summary: String,
    pub agent: Option<String>,
}

/// Format minor units as an amount: 12950 -> "129.50".
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}
