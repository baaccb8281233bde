package main

import (
	"context"
	"errors"
)

func runProduce(ctx context.Context, args []string) error { return errors.New("not implemented yet") }
