"""The public data resource catalog (城市公共数据资源目录): contracts and catalog items.

Must not: read or write table data.
"""
