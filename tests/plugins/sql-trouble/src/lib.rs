//! `trouble(what)`: loops forever for `loop`, panics for `panic`, grows its
//! memory without end for `grow`; any other text comes back in upper case.

wit_bindgen::generate!({
    path: "../../../examples/sqlplug/wit",
    world: "scalar",
});

struct Trouble;

impl Guest for Trouble {
    fn call(args: Vec<Value>) -> Result<Value, String> {
        let [Value::Text(what)] = args.as_slice() else {
            return Err("trouble takes one text".into());
        };
        match what.as_str() {
            "loop" => loop {
                std::hint::black_box(0);
            },
            "panic" => panic!("trouble was asked for"),
            "grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            other => Ok(Value::Text(other.to_uppercase())),
        }
    }
}

export!(Trouble);
