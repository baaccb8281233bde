package canonical

import "testing"

// TestIndexFollowsAll: indexes number All's statuses in order from 1, name
// them back, and carry their rank and class.
func TestIndexFollowsAll(t *testing.T) {
	all := All()
	if Indexes() != len(all)+1 {
		t.Fatalf("Indexes() = %d, want %d", Indexes(), len(all)+1)
	}
	for n, in := range all {
		i, ok := IndexOf(in.Status)
		if !ok || int(i) != n+1 {
			t.Fatalf("IndexOf(%s) = %d, %v; want %d", in.Status, i, ok, n+1)
		}
		if b, _ := IndexOfBytes([]byte(in.Status)); b != i || MustIndex(in.Status) != i {
			t.Errorf("IndexOfBytes/MustIndex(%s) disagree with IndexOf", in.Status)
		}
		if i.Status() != in.Status || i.String() != string(in.Status) || i.Rank() != in.Rank || i.Class() != in.Class() {
			t.Errorf("%d: got %s rank %d class %d; want %s rank %d class %d", i, i.Status(), i.Rank(), i.Class(), in.Status, in.Rank, in.Class())
		}
		if i.Bit() != 1<<i {
			t.Errorf("%s: Bit() = %b", in.Status, i.Bit())
		}
	}
	if _, ok := IndexOf("NOT_A_STATUS"); ok {
		t.Error("IndexOf accepted an unknown name")
	}
	var none Index
	if none.Status() != "" || none.Stage() || none.Problem() || none.OnLine() || none.PreShip() || none.Class() != ClassNone {
		t.Error("index 0 is a status")
	}
}

func TestIndexPredicates(t *testing.T) {
	for _, c := range []struct {
		s                                                    Status
		stage, problem, aggregate, returnBranch, onLine, pre bool
	}{
		{Placed, true, false, false, false, true, true},
		{Packed, true, false, false, false, true, true},
		{Shipped, true, false, false, false, true, false},
		{OnHold, false, true, false, false, false, false},
		{Exception, false, true, false, false, false, false},
		{PartiallyShipped, false, false, true, false, false, false},
		{ReturnInTransit, false, false, false, true, true, false},
		{Cancelled, false, false, false, false, false, false},
	} {
		i := MustIndex(c.s)
		got := [6]bool{i.Stage(), i.Problem(), i.Aggregate(), i.ReturnBranch(), i.OnLine(), i.PreShip()}
		want := [6]bool{c.stage, c.problem, c.aggregate, c.returnBranch, c.onLine, c.pre}
		if got != want {
			t.Errorf("%s: stage, problem, aggregate, return branch, on line, pre-ship = %v, want %v", c.s, got, want)
		}
	}
}

func TestIndexOfBytesDoesNotAllocate(t *testing.T) {
	name := []byte("OUT_FOR_DELIVERY")
	if n := testing.AllocsPerRun(100, func() { IndexOfBytes(name) }); n != 0 {
		t.Errorf("IndexOfBytes allocates %v times per call", n)
	}
}

func TestMustIndexPanicsOnAnUnknownName(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	MustIndex("NOT_A_STATUS")
}
