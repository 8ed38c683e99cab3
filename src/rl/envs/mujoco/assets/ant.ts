// Ant (Gymnasium Ant-v5's model), written for fimkit from the documented facts: a torso sphere
// (radius 0.25) on a free joint 0.75 m up, four legs at ±45° in the horizontal plane, each an
// upper segment fixed to the torso, a hip hinge about z (±30°) carrying a 0.28 m thigh and an
// ankle hinge (30°–70° or −70°–−30°, axis horizontal and across the leg) carrying a 0.57 m shin;
// capsules of radius 0.08 at density 5, friction (1, 0.5, 0.5), contact margin 0.01; joints with
// armature 1 and damping 1; eight 150-gear motors ordered hip/ankle of legs 4, 1, 2, 3; RK4 at
// 10 ms. Body order (depth first) matches the published model, which matters because the
// observation carries each body's external contact force (cfrc_ext) in body order.
export const ANT_XML = `
<mujoco model="fimkit-ant">
  <compiler angle="degree" inertiafromgeom="true"/>
  <option timestep="0.01" integrator="RK4"/>
  <default>
    <joint limited="true" armature="1" damping="1"/>
    <geom conaffinity="0" condim="3" density="5" friction="1 0.5 0.5" margin="0.01"/>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="40 40 40" conaffinity="1" condim="3"/>
    <body name="torso" pos="0 0 0.75">
      <joint name="root" type="free" limited="false" armature="0" damping="0"/>
      <geom name="torso_geom" type="sphere" size="0.25"/>
      <body name="front_left_leg">
        <geom name="aux_1_geom" type="capsule" fromto="0 0 0 0.2 0.2 0" size="0.08"/>
        <body name="aux_1" pos="0.2 0.2 0">
          <joint name="hip_1" type="hinge" axis="0 0 1" range="-30 30"/>
          <geom name="left_leg_geom" type="capsule" fromto="0 0 0 0.2 0.2 0" size="0.08"/>
          <body name="shin_1" pos="0.2 0.2 0">
            <joint name="ankle_1" type="hinge" axis="-1 1 0" range="30 70"/>
            <geom name="left_ankle_geom" type="capsule" fromto="0 0 0 0.4 0.4 0" size="0.08"/>
          </body>
        </body>
      </body>
      <body name="front_right_leg">
        <geom name="aux_2_geom" type="capsule" fromto="0 0 0 -0.2 0.2 0" size="0.08"/>
        <body name="aux_2" pos="-0.2 0.2 0">
          <joint name="hip_2" type="hinge" axis="0 0 1" range="-30 30"/>
          <geom name="right_leg_geom" type="capsule" fromto="0 0 0 -0.2 0.2 0" size="0.08"/>
          <body name="shin_2" pos="-0.2 0.2 0">
            <joint name="ankle_2" type="hinge" axis="1 1 0" range="-70 -30"/>
            <geom name="right_ankle_geom" type="capsule" fromto="0 0 0 -0.4 0.4 0" size="0.08"/>
          </body>
        </body>
      </body>
      <body name="back_leg">
        <geom name="aux_3_geom" type="capsule" fromto="0 0 0 -0.2 -0.2 0" size="0.08"/>
        <body name="aux_3" pos="-0.2 -0.2 0">
          <joint name="hip_3" type="hinge" axis="0 0 1" range="-30 30"/>
          <geom name="back_leg_geom" type="capsule" fromto="0 0 0 -0.2 -0.2 0" size="0.08"/>
          <body name="shin_3" pos="-0.2 -0.2 0">
            <joint name="ankle_3" type="hinge" axis="-1 1 0" range="-70 -30"/>
            <geom name="third_ankle_geom" type="capsule" fromto="0 0 0 -0.4 -0.4 0" size="0.08"/>
          </body>
        </body>
      </body>
      <body name="right_back_leg">
        <geom name="aux_4_geom" type="capsule" fromto="0 0 0 0.2 -0.2 0" size="0.08"/>
        <body name="aux_4" pos="0.2 -0.2 0">
          <joint name="hip_4" type="hinge" axis="0 0 1" range="-30 30"/>
          <geom name="rightback_leg_geom" type="capsule" fromto="0 0 0 0.2 -0.2 0" size="0.08"/>
          <body name="shin_4" pos="0.2 -0.2 0">
            <joint name="ankle_4" type="hinge" axis="1 1 0" range="30 70"/>
            <geom name="fourth_ankle_geom" type="capsule" fromto="0 0 0 0.4 -0.4 0" size="0.08"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="hip_4" joint="hip_4" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="ankle_4" joint="ankle_4" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="hip_1" joint="hip_1" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="ankle_1" joint="ankle_1" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="hip_2" joint="hip_2" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="ankle_2" joint="ankle_2" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="hip_3" joint="hip_3" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="ankle_3" joint="ankle_3" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;
