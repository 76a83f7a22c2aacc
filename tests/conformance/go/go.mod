// The generated bindings import each other as wit_component/..., so the
// plugin's module has that path.
module wit_component

go 1.24
