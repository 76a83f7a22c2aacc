/// A file for the example linter to check.
fn greet(name: &str) -> String {
    // TODO: greet in the user's language
    format!("Hello, {name}! It is good to see you here today, after such a long time away.")
}

fn main() {
    // FIXME read the name from the command line
    println!("{}", greet("world"));
}
