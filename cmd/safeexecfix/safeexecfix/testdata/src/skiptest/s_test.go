//go:build integration

package skiptest

import "testing"

func TestDo(t *testing.T) { _ = Do() }
