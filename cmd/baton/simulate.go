package main

import (
	"context"
	"errors"
)

func runSimulate(ctx context.Context, args []string) error { return errors.New("not implemented yet") }
