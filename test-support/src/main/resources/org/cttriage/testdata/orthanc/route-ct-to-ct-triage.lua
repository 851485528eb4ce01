-- Orthanc: send every stable CT series to the ct-triage node.
--
-- Orthanc calls OnStableSeries once a series has received no new instance for
-- "StableAge" seconds. Only Modality CT is sent: the DICOM SR that the node
-- stores back (Modality SR), and every other modality, stays where it is, so
-- the node's answer is never routed back to the node.
--
-- The store runs as an asynchronous Orthanc job, so a slow or unreachable node
-- does not hold up Orthanc's single Lua event thread, and every transfer,
-- failed ones included, is listed under /jobs (and in Orthanc Explorer).
--
-- "cttriage" must be the name of the node's entry in "DicomModalities".
-- Only one OnStableSeries function can exist in an Orthanc: if another Lua
-- script of yours defines one, merge the body below into it.
--
-- deploy/orthanc/route-ct-to-ct-triage.lua is a byte-for-byte copy of
-- test-data/src/main/resources/org/cttriage/testdata/orthanc/route-ct-to-ct-triage.lua,
-- which the test harness runs against a real Orthanc; a test keeps them identical.

local CT_TRIAGE_MODALITY = 'cttriage'

function OnStableSeries(seriesId, tags, metadata)
   if tags['Modality'] ~= 'CT' then
      return
   end
   print('ct-triage: sending stable CT series ' .. seriesId .. ' to modality ' .. CT_TRIAGE_MODALITY)
   RestApiPost('/modalities/' .. CT_TRIAGE_MODALITY .. '/store',
               DumpJson({ Resources = { seriesId }, Asynchronous = true }, true))
end
