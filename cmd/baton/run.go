package main

import (
	"context"
	"errors"
)

func runPipeline(ctx context.Context, args []string) error { return errors.New("not implemented yet") }
