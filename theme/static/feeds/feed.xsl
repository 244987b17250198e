<?xml version="1.0" encoding="UTF-8"?>
<!--
  Shows an Atom or RSS feed of the site as a readable Chinese page when a
  reader opens it in a browser. Every feed references this file with
  <?xml-stylesheet type="text/xsl"?> by a relative path (same origin).
  No script and no style attributes (the site's CSP): the look is feed.css,
  found next to this file; its address is worked out from the feed's own
  processing instruction, so the page works under any sub-path.
  Browsers without XSLT apply feed.css to the raw XML instead.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">

  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="instruction" select="/processing-instruction('xml-stylesheet')[contains(., 'text/xsl')]"/>
  <xsl:variable name="base" select="substring-before(substring-after($instruction, 'href=&quot;'), 'feed.xsl')"/>
  <xsl:variable name="format">
    <xsl:choose>
      <xsl:when test="/atom:feed">Atom</xsl:when>
      <xsl:otherwise>RSS</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <xsl:template match="/">
    <xsl:variable name="title" select="/atom:feed/atom:title | /rss/channel/title"/>
    <html lang="zh-CN">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/>（订阅源）</title>
        <link rel="stylesheet" href="{$base}feed.css"/>
      </head>
      <body class="feed-page">
        <main>
          <aside class="feed-note" aria-label="什么是订阅源">
            <p><strong>这是一个订阅源（<xsl:value-of select="$format"/> 格式）。</strong>
              把下面的地址复制到订阅阅读器（RSS 阅读器）中，有新记录公开、记录更正或撤回时，阅读器会自动提示您。</p>
            <p class="feed-address"><code><xsl:value-of select="/atom:feed/atom:link[@rel='self']/@href | /rss/channel/atom:link[@rel='self']/@href"/></code></p>
          </aside>
          <xsl:apply-templates select="atom:feed | rss/channel"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <!-- Atom -->
  <xsl:template match="atom:feed">
    <header class="feed-header">
      <h1><xsl:value-of select="atom:title"/></h1>
      <p><xsl:value-of select="atom:subtitle"/></p>
      <p class="feed-meta">最近更新：<xsl:call-template name="iso-date"><xsl:with-param name="value" select="atom:updated"/></xsl:call-template>
        · <a href="{atom:link[not(@rel) or @rel='alternate']/@href}">在网站上查看此列表</a></p>
    </header>
    <xsl:choose>
      <xsl:when test="atom:entry">
        <ol class="feed-entries">
          <xsl:for-each select="atom:entry">
            <li>
              <h2><a href="{atom:link[not(@rel) or @rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
              <p class="feed-meta">
                <xsl:if test="atom:published">发布：<xsl:call-template name="iso-date"><xsl:with-param name="value" select="atom:published"/></xsl:call-template> · </xsl:if>
                更新：<xsl:call-template name="iso-date"><xsl:with-param name="value" select="atom:updated"/></xsl:call-template>
                <xsl:if test="atom:author/atom:name"> · <xsl:value-of select="atom:author/atom:name"/></xsl:if>
              </p>
              <p><xsl:value-of select="atom:summary"/></p>
            </li>
          </xsl:for-each>
        </ol>
      </xsl:when>
      <xsl:otherwise><p>暂无记录。</p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- RSS 2.0 -->
  <xsl:template match="channel">
    <header class="feed-header">
      <h1><xsl:value-of select="title"/></h1>
      <p><xsl:value-of select="description"/></p>
      <p class="feed-meta">最近更新：<xsl:call-template name="rfc822-date"><xsl:with-param name="value" select="lastBuildDate"/></xsl:call-template>
        · <a href="{link}">在网站上查看此列表</a></p>
    </header>
    <xsl:choose>
      <xsl:when test="item">
        <ol class="feed-entries">
          <xsl:for-each select="item">
            <li>
              <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
              <xsl:if test="pubDate">
                <p class="feed-meta">发布：<xsl:call-template name="rfc822-date"><xsl:with-param name="value" select="pubDate"/></xsl:call-template></p>
              </xsl:if>
              <p><xsl:value-of select="description"/></p>
            </li>
          </xsl:for-each>
        </ol>
      </xsl:when>
      <xsl:otherwise><p>暂无记录。</p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- 2024-03-05T10:00:00+08:00 → 2024年3月5日 (feeds give China time) -->
  <xsl:template name="iso-date">
    <xsl:param name="value"/>
    <xsl:value-of select="concat(substring($value, 1, 4), '年', number(substring($value, 6, 2)), '月', number(substring($value, 9, 2)), '日')"/>
  </xsl:template>

  <!-- Tue, 05 Mar 2024 10:00:00 +0800 → 2024年3月5日 -->
  <xsl:template name="rfc822-date">
    <xsl:param name="value"/>
    <xsl:variable name="rest" select="normalize-space(substring-after($value, ','))"/>
    <xsl:variable name="day" select="substring-before($rest, ' ')"/>
    <xsl:variable name="month-name" select="substring(substring-after($rest, ' '), 1, 3)"/>
    <xsl:variable name="year" select="substring(substring-after(substring-after($rest, ' '), ' '), 1, 4)"/>
    <xsl:variable name="month" select="string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec', $month-name)) div 3 + 1"/>
    <xsl:value-of select="concat($year, '年', $month, '月', number($day), '日')"/>
  </xsl:template>
</xsl:stylesheet>
