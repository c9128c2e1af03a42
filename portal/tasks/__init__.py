"""Background tasks: long work (imports, allocations, re-encryption) runs on the queue and
writes its progress here, where any app process can show it."""
