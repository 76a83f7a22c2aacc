//! Gives back what it is given: the fixture of the dynamic-call fuzz target
//! (`fuzz/fuzz_targets/dynamic_call.rs`) and of the round-trip test in
//! `tests/all/host.rs`.

use std::cell::Cell;

wit_bindgen::generate!({
    path: "wit",
    world: "echo",
});

use exports::wasmplug::echo::counters::{Guest as Counters, GuestCounter};

struct Echo;

impl Guest for Echo {
    fn echo_bytes(b: Vec<u8>) -> Vec<u8> {
        b
    }
    fn echo_string(s: String) -> String {
        s
    }
    fn echo_scalars(s: Scalars) -> Scalars {
        s
    }
    fn echo_point(p: Point) -> Point {
        p
    }
    fn echo_shape(s: Shape) -> Shape {
        s
    }
    fn echo_color(c: Color) -> Color {
        c
    }
    fn echo_access(a: Access) -> Access {
        a
    }
    fn echo_option(o: Option<Vec<Point>>) -> Option<Vec<Point>> {
        o
    }
    fn echo_result(r: Result<String, Color>) -> Result<String, Color> {
        r
    }
    fn echo_tuple(t: (u8, i64, char, bool)) -> (u8, i64, char, bool) {
        t
    }
    fn echo_nested(l: Vec<Vec<String>>) -> Vec<Vec<String>> {
        l
    }
    fn echo_many(a: u32, b: String, c: Vec<u8>) -> (u32, String, Vec<u8>) {
        (a, b, c)
    }
}

struct Counter(Cell<u32>);

impl GuestCounter for Counter {
    fn new(start: u32) -> Self {
        Counter(Cell::new(start))
    }
    fn add(&self, n: u32) -> u32 {
        self.0.set(self.0.get().wrapping_add(n));
        self.0.get()
    }
    fn value(&self) -> u32 {
        self.0.get()
    }
}

impl Counters for Echo {
    type Counter = Counter;
}

export!(Echo);
