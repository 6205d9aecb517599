"""Fujian's V4 exchange (福建省公共资源交易数据交换 V4): the ``<DES>`` message, the SOAP service
``UploadData_G_V4(validation, data)`` with its DES token, and its JSON reply."""
