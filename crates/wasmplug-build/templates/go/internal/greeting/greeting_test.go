package greeting

import "testing"

func TestGreetIncludesTheName(t *testing.T) {
	got, err := Greet("world")
	if err != nil {
		t.Fatalf("Greet(\"world\") failed: %v", err)
	}
	if want := "Hello, world!"; got != want {
		t.Errorf("Greet(\"world\") = %q, want %q", got, want)
	}
}

func TestGreetRejectsEmptyInput(t *testing.T) {
	if _, err := Greet(""); err == nil {
		t.Error("Greet(\"\") succeeded, want an error")
	}
}
