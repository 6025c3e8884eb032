package main

import (
	"os/exec"
	"time"
)

type budget struct{}

func (budget) SetRetryBudget(d time.Duration) {}

type job struct {
	*exec.Cmd
	budget
}

func main() {
	j := job{Cmd: exec.Command("true")}
	j.SetRetryBudget(time.Second) // want `ambiguous selector j.SetRetryBudget after the move to safeexec`
	_ = j.Run()
}
