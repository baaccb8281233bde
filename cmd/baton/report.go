package main

import (
	"context"
	"errors"
)

func runReport(ctx context.Context, args []string) error { return errors.New("not implemented yet") }
