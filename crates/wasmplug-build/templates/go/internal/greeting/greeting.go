// Package greeting holds the plugin's logic. It does not depend on the
// bindings, so `go test ./internal/...` runs it natively.
package greeting

import "errors"

// Greet returns the greeting for name.
func Greet(name string) (string, error) {
	if name == "" {
		return "", errors.New("nothing to greet: the input is empty")
	}
	return "Hello, " + name + "!", nil
}
