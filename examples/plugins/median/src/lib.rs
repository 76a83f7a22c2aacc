//! `median(x)`: the middle value of a group's numbers, the mean of the two
//! middle ones for an even count; NULLs are skipped, and a group of none is
//! NULL. An aggregate: each group keeps its numbers in the plugin's memory.

wit_bindgen::generate!({
    path: "../../sqlplug/wit",
    world: "aggregate",
});

use std::cell::RefCell;

use exports::sqlplug::functions::accumulate::{Guest, GuestGroup};
use sqlplug::functions::types::Value;

struct Median;

impl Guest for Median {
    type Group = Group;
}

/// The numbers of one group so far.
struct Group {
    numbers: RefCell<Vec<f64>>,
}

impl GuestGroup for Group {
    fn new() -> Self {
        Group {
            numbers: RefCell::new(Vec::new()),
        }
    }

    fn step(&self, args: Vec<Value>) -> Result<(), String> {
        let number = match args.as_slice() {
            [Value::Null] => return Ok(()),
            [Value::Integer(n)] => *n as f64,
            [Value::Real(x)] => *x,
            [Value::Text(text)] => text
                .trim()
                .parse()
                .map_err(|_| format!("median takes numbers, not `{text}`"))?,
            [Value::Blob(_)] => return Err("median takes numbers, not a blob".into()),
            _ => return Err(format!("median takes 1 argument, not {}", args.len())),
        };
        self.numbers.borrow_mut().push(number);
        Ok(())
    }

    fn finish(&self) -> Result<Value, String> {
        let mut numbers = self.numbers.take();
        if numbers.is_empty() {
            return Ok(Value::Null);
        }
        numbers.sort_by(f64::total_cmp);
        let middle = numbers.len() / 2;
        let median = if numbers.len() % 2 == 1 {
            numbers[middle]
        } else {
            (numbers[middle - 1] + numbers[middle]) / 2.0
        };
        Ok(Value::Real(median))
    }
}

export!(Median);
