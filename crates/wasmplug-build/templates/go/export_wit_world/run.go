// Package export_wit_world implements the functions that the plugin's world
// exports; the build generates the bindings that call it.
package export_wit_world

import (
	witTypes "go.bytecodealliance.org/pkg/wit/types"

	"wit_component/internal/greeting"
	host "wit_component/wasmplug_plugin_host"
)

// Run is the plugin's entry point: `run: func(input: string) -> result<string, string>`.
func Run(input string) witTypes.Result[string, string] {
	message, err := greeting.Greet(input)
	if err != nil {
		return witTypes.Err[string, string](err.Error())
	}
	host.Log(host.Level_Info, "greeted "+input)
	return witTypes.Ok[string, string](message)
}
