"""(being written: issue 17, sub-flows)"""
