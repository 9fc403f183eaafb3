"""(being written: issue 17, secret masking)"""
