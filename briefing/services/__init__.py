"""Services: the only layer that opens transactions, imports store/ and drives the send
engine. Edges (cli/, web/, the scheduler) call these and word the results themselves."""
