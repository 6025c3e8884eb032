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

// CmdExtras returns, sorted, the methods of safeexec.Cmd that exec.Cmd lacks.
func CmdExtras() []string { return slices.Sorted(maps.Keys(cmdExtras)) }

// StandIn returns the stand-in for safeexec built from execPkg.
func StandIn(execPkg *types.Package) *types.Package { return fakeSafeexec(execPkg) }
