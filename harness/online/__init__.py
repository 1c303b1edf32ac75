"""Online learning from the person's signals: adapter steps, decayed replay, the control vector."""
