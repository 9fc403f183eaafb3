"""(being written: issue 17, secrets)"""
