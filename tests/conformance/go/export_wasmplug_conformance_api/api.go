// Package export_wasmplug_conformance_api implements the `api` interface of
// the conformance world; the build adds the generated half of this package.
package export_wasmplug_conformance_api

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	"wit_component/wasmplug_conformance_events"
	types "wit_component/wasmplug_conformance_types"
)

func ReverseString(s string) string {
	runes := []rune(s)
	slices.Reverse(runes)
	return string(runes)
}

func ReverseBytes(data []uint8) []uint8 {
	// data borrows the call's argument buffer: return a copy.
	reversed := slices.Clone(data)
	slices.Reverse(reversed)
	return reversed
}

func SplitWords(s string) []string {
	return strings.Split(s, " ")
}

func Sum(values []int64) int64 {
	var total int64
	for _, value := range values {
		total += value
	}
	return total
}

func MinMax(values []int32) witTypes.Option[witTypes.Tuple2[int32, int32]] {
	if len(values) == 0 {
		return witTypes.None[witTypes.Tuple2[int32, int32]]()
	}
	return witTypes.Some(witTypes.Tuple2[int32, int32]{F0: slices.Min(values), F1: slices.Max(values)})
}

func Translate(p types.Point, dx int32, dy int32) types.Point {
	return types.Point{X: p.X + dx, Y: p.Y + dy}
}

func Bump(s types.Scalars) types.Scalars {
	return types.Scalars{
		Flag:   !s.Flag,
		Tiny:   s.Tiny + 1,
		Small:  s.Small + 1,
		Medium: s.Medium + 1,
		Large:  s.Large + 1,
		Single: s.Single * 2,
		Double: s.Double * 2,
		Letter: nextScalarValue(s.Letter),
	}
}

// nextScalarValue skips the surrogates, which are not Unicode scalar values,
// and wraps after the last one.
func nextScalarValue(r rune) rune {
	switch r {
	case 0xD7FF:
		return 0xE000
	case 0x10FFFF:
		return 0
	default:
		return r + 1
	}
}

func Describe(p types.Person) string {
	var description strings.Builder
	fmt.Fprintf(&description, "%s (%d)", p.Name, p.Age)
	if len(p.Nicknames) > 0 {
		description.WriteString(" aka " + strings.Join(p.Nicknames, ", "))
	}
	if p.Email.IsSome() {
		description.WriteString(" <" + p.Email.Some() + ">")
	}
	return description.String()
}

func Birthday(p types.Person, nickname string) types.Person {
	p.Age++
	p.Nicknames = append(slices.Clone(p.Nicknames), nickname)
	return p
}

func Area(s types.Shape) uint64 {
	switch s.Tag() {
	case types.Shape_Circle:
		r := uint64(s.Circle())
		return 3 * r * r
	case types.Shape_Rectangle:
		p := s.Rectangle()
		product := int64(p.X) * int64(p.Y)
		if product < 0 {
			product = -product
		}
		return uint64(product)
	default:
		return 0
	}
}

func NextColor(c types.Color) types.Color {
	switch c {
	case types.Color_Red:
		return types.Color_Green
	case types.Color_Green:
		return types.Color_Blue
	default:
		return types.Color_Red
	}
}

func Flip(p types.Permissions, toggle types.Permissions) types.Permissions {
	return p ^ toggle
}

func FirstEven(values []uint32) witTypes.Option[uint32] {
	for _, value := range values {
		if value%2 == 0 {
			return witTypes.Some(value)
		}
	}
	return witTypes.None[uint32]()
}

func ParseNumber(s string) witTypes.Result[int32, types.ParseError] {
	if s == "" {
		return witTypes.Err[int32](types.MakeParseErrorEmpty())
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return witTypes.Err[int32](types.MakeParseErrorInvalid(s))
	}
	value, err := strconv.ParseInt(s, 10, 32)
	if errors.Is(err, strconv.ErrRange) {
		return witTypes.Err[int32](types.MakeParseErrorTooLarge())
	}
	return witTypes.Ok[int32, types.ParseError](int32(value))
}

func RecordAll(points []types.Point) uint32 {
	var count uint32
	for i, point := range points {
		count = wasmplug_conformance_events.RecordEvent(fmt.Sprintf("p%d", i), point)
	}
	return count
}

func LookupAll(keys []string) []string {
	lines := make([]string, 0, len(keys))
	for _, key := range keys {
		if value := wasmplug_conformance_events.Lookup(key); value.IsSome() {
			lines = append(lines, key+"="+value.Some())
		} else {
			lines = append(lines, key+"?")
		}
	}
	return lines
}
