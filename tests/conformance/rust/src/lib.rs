//! The conformance world in Rust: the reference the other languages match.

use std::cell::Cell;

wit_bindgen::generate!({
    path: "../wit",
    world: "conformance",
});

use exports::wasmplug::conformance::api::{
    Color, Counter, CounterBorrow, Guest, GuestCounter, ParseError, Permissions, Person, Point,
    Scalars, Shape,
};
use wasmplug::conformance::events;

struct Conformance;

impl Guest for Conformance {
    type Counter = CounterImpl;

    fn reverse_string(s: String) -> String {
        s.chars().rev().collect()
    }

    fn reverse_bytes(mut data: Vec<u8>) -> Vec<u8> {
        data.reverse();
        data
    }

    fn split_words(s: String) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    fn sum(values: Vec<i64>) -> i64 {
        values.iter().sum()
    }

    fn min_max(values: Vec<i32>) -> Option<(i32, i32)> {
        Some((*values.iter().min()?, *values.iter().max()?))
    }

    fn translate(p: Point, dx: i32, dy: i32) -> Point {
        Point {
            x: p.x + dx,
            y: p.y + dy,
        }
    }

    fn bump(s: Scalars) -> Scalars {
        Scalars {
            flag: !s.flag,
            tiny: s.tiny + 1,
            small: s.small + 1,
            medium: s.medium + 1,
            large: s.large + 1,
            single: s.single * 2.0,
            double: s.double * 2.0,
            letter: next_scalar(s.letter),
        }
    }

    fn describe(p: Person) -> String {
        let mut text = format!("{} ({})", p.name, p.age);
        if !p.nicknames.is_empty() {
            text += &format!(" aka {}", p.nicknames.join(", "));
        }
        if let Some(email) = p.email {
            text += &format!(" <{email}>");
        }
        text
    }

    fn birthday(mut p: Person, nickname: String) -> Person {
        p.age += 1;
        p.nicknames.push(nickname);
        p
    }

    fn area(s: Shape) -> u64 {
        match s {
            Shape::Circle(r) => 3 * u64::from(r) * u64::from(r),
            Shape::Rectangle(p) => (i64::from(p.x) * i64::from(p.y)).unsigned_abs(),
            Shape::Dot => 0,
        }
    }

    fn next_color(c: Color) -> Color {
        match c {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::Red,
        }
    }

    fn flip(p: Permissions, toggle: Permissions) -> Permissions {
        p ^ toggle
    }

    fn first_even(values: Vec<u32>) -> Option<u32> {
        values.into_iter().find(|v| v % 2 == 0)
    }

    fn parse_number(s: String) -> Result<i32, ParseError> {
        if s.is_empty() {
            return Err(ParseError::Empty);
        }
        let digits = s.strip_prefix('-').unwrap_or(&s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::Invalid(s));
        }
        s.parse().map_err(|_| ParseError::TooLarge)
    }

    fn record_all(points: Vec<Point>) -> u32 {
        points
            .into_iter()
            .enumerate()
            .fold(0, |_, (i, p)| events::record_event(&format!("p{i}"), p))
    }

    fn lookup_all(keys: Vec<String>) -> Vec<String> {
        keys.into_iter()
            .map(|key| match events::lookup(&key) {
                Some(value) => format!("{key}={value}"),
                None => format!("{key}?"),
            })
            .collect()
    }

    fn merge(a: CounterBorrow<'_>, b: CounterBorrow<'_>) -> Counter {
        let total = a.get::<CounterImpl>().value() + b.get::<CounterImpl>().value();
        Counter::new(CounterImpl::new(total))
    }
}

/// The next Unicode scalar value, skipping the surrogates; U+FFFD after the
/// last one.
fn next_scalar(c: char) -> char {
    match c {
        '\u{D7FF}' => '\u{E000}',
        c => char::from_u32(c as u32 + 1).unwrap_or(char::REPLACEMENT_CHARACTER),
    }
}

struct CounterImpl {
    value: Cell<i64>,
}

impl GuestCounter for CounterImpl {
    fn new(start: i64) -> Self {
        Self {
            value: Cell::new(start),
        }
    }

    fn add(&self, by: i64) -> i64 {
        self.value.set(self.value.get() + by);
        self.value.get()
    }

    fn value(&self) -> i64 {
        self.value.get()
    }

    fn fork(&self) -> Counter {
        Counter::new(CounterImpl::new(self.value.get()))
    }
}

export!(Conformance);
