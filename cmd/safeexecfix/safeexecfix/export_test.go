package safeexecfix

import (
	"go/types"
	"maps"
	"slices"
)

// SafeexecNames and CmdMembers return, sorted, the names the analyzer
// believes safeexec and safeexec.Cmd have.
func SafeexecNames() []string { return slices.Sorted(maps.Keys(safeexecNames)) }
func CmdMembers() []string    { return slices.Sorted(maps.Keys(cmdMembers)) }

// StandIn returns the stand-in for safeexec built from execPkg.
func StandIn(execPkg *types.Package) *types.Package { return fakeSafeexec(execPkg) }
